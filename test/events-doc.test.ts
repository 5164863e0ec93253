import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventCatalogue, type EventDefinition } from '../src/platform/audit/catalogue.js';
import { EVENTS_DOC_PATH, renderEventsDoc } from '../scripts/generate-events-doc.js';

const entries = Object.entries(eventCatalogue) as [string, EventDefinition][];

describe('event catalogue and docs/events.md', () => {
  it('docs/events.md is generated from the catalogue', () => {
    const file = new URL(`../${EVENTS_DOC_PATH}`, import.meta.url);
    let stored = '';
    try {
      stored = readFileSync(file, 'utf8');
    } catch {
      // A missing file fails the comparison below with the same instruction.
    }
    expect(stored, `${EVENTS_DOC_PATH} is out of date with src/platform/audit/catalogue.ts: run npm run docs:events and commit it`).toBe(
      renderEventsDoc(eventCatalogue),
    );
  });

  it('gives every event type its own id', () => {
    const byId = new Map<number, string[]>();
    for (const [name, { id }] of entries) byId.set(id, [...(byId.get(id) ?? []), name]);
    const shared = [...byId].filter(([, names]) => names.length > 1).map(([id, names]) => `${id}: ${names.join(', ')}`);
    expect(shared, 'event ids must be unique and are never reused').toEqual([]);
  });

  it('uses positive integer ids and severities from 1 to 10', () => {
    for (const [name, { id, severity }] of entries) {
      expect(Number.isInteger(id) && id > 0, `${name}: id ${id} must be a positive integer`).toBe(true);
      expect(Number.isInteger(severity) && severity >= 1 && severity <= 10, `${name}: severity ${severity} must be an integer from 1 to 10`).toBe(true);
    }
  });

  it('names event types as dotted lower-case words and describes each one', () => {
    for (const [name, { description }] of entries) {
      expect(name, 'event names look like area.noun.verb').toMatch(/^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/);
      expect(description.trim().length, `${name} needs a description`).toBeGreaterThan(10);
    }
  });

  it('renders one row per event type, sorted by id, with table-breaking characters escaped', () => {
    const doc = renderEventsDoc({
      'b.second': { id: 20, category: 'auth', severity: 3, description: 'second | with a pipe' },
      'a.first': { id: 10, category: 'operator', severity: 9, description: 'first\nover two lines' },
    });
    const rows = doc.split('\n').filter((line) => /^\| \d+ \|/.test(line));
    expect(rows).toEqual([
      '| 10 | `a.first` | operator | 9 | first over two lines |',
      '| 20 | `b.second` | auth | 3 | second \\| with a pipe |',
    ]);
    expect(renderEventsDoc(eventCatalogue)).toBe(renderEventsDoc(eventCatalogue));
  });
});
