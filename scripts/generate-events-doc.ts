// Generates docs/events.md from the event catalogue in src/platform/audit/catalogue.ts (npm run docs:events).
// With --check it writes nothing and exits 1 when docs/events.md differs from what the catalogue renders.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventCatalogue, type EventCategory, type EventDefinition } from '../src/platform/audit/catalogue.js';

/** Where the generated document lives, from the repository root. */
export const EVENTS_DOC_PATH = 'docs/events.md';

/** What each category covers; typed by EventCategory so a new category cannot ship without a line here. */
const categoryMeaning: Record<EventCategory, string> = {
  auth: 'authentication of tenant users: activation, login, logout, session revocation',
  identity: 'users, groups and roles of a tenant',
  vault: 'devices and credentials: creation, change, reveal, checkout and checkin',
  access: 'access policies, access requests and their approval or denial',
  rotation: 'password and key rotation on targets',
  connectivity: 'connectors and the reachability of targets',
  session: 'privileged sessions through the SSH proxy and their recordings',
  backup: 'snapshots and restores',
  behaviour: 'behaviour monitoring and the anomalies it raises',
  config: "a tenant's settings: network allowlists, security policies, SIEM destinations, focal points",
  operator: 'the provider: tenant lifecycle, operator tokens, root key, maintenance',
};

const severityBands: [string, string][] = [
  ['1-3', 'routine: expected activity, kept for the record (a login, a logout)'],
  ['4-6', 'notable: a change of state, or a refused attempt worth correlating (a user created, a failed login)'],
  ['7-8', 'high: a privileged or security-relevant change a reviewer should see (an operator token created, a tenant suspended, the root key rotated)'],
  ['9-10', 'critical: destructive or irreversible (a tenant and its keys destroyed)'],
];

/** A table cell: pipes and line breaks would break the row. */
function cell(text: string | number): string {
  return String(text).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The whole of docs/events.md for a catalogue: an introduction, then one row per event type sorted by id. */
export function renderEventsDoc(catalogue: Readonly<Record<string, EventDefinition>>): string {
  const events = Object.entries(catalogue)
    .map(([name, definition]) => ({ name, ...definition }))
    .sort((a, b) => a.id - b.id || a.name.localeCompare(b.name));
  const used = new Map<string, number>();
  for (const event of events) used.set(event.category, (used.get(event.category) ?? 0) + 1);
  const categories = Object.entries(categoryMeaning) as [EventCategory, string][];

  const lines = [
    '<!-- Generated from src/platform/audit/catalogue.ts by `npm run docs:events`. Do not edit by hand. -->',
    '',
    '# Audit event catalogue',
    '',
    'Every security-relevant action in Custos appends one typed event to a tamper-evident audit chain, in the',
    'same database transaction as the change itself: if the change commits, its event is there; if it rolls',
    'back, there is no event. Each tenant has its own chain. Operator-plane actions (operator tokens, the root',
    'key, tenant lifecycle) go to the system chain, scope `00000000-0000-0000-0000-000000000000`; tenant',
    'creation, suspension and resumption are written to both the tenant\'s chain and the system chain, and a',
    'tenant\'s deletion only to the system chain, since the tenant\'s own chain is deleted with it.',
    '',
    'A stored event carries:',
    '',
    '| field | meaning |',
    '| --- | --- |',
    '| `seq` | position in its chain, 1, 2, 3, ... without gaps |',
    '| `id` | a UUIDv7, unique across all chains |',
    '| `occurred_at` | server time, epoch milliseconds |',
    '| `type_id`, `action`, `category`, `severity` | the event type, from the table below |',
    '| `outcome` | `success` or `failure` |',
    '| `actor_kind`, `actor_id`, `actor_ip` | who acted: `user` (a user id, or `anonymous` for an unknown login name), `operator` (an operator token id, or `cli:<os user>` for the CLI), `client` or `system` |',
    '| `target_type`, `target_id` | what the action was about, when it was about one object |',
    '| `details` | a JSON object of plain values; never a password, token, secret or TOTP code |',
    '| `prev_hash`, `hash` | the chain links; see docs/architecture.md |',
    '',
    'The catalogue is defined once, in `src/platform/audit/catalogue.ts`; this file is generated from it.',
    '',
    '## Ids are stable',
    '',
    'The numeric id of an event type is its identity for SIEM rules, filters and exported logs. An id never',
    'changes and is never reused: an event type that is retired keeps its id reserved, and a new type always',
    'gets a new id. So far ids are grouped by area in thousands (1xxx operator plane, 2xxx identity, 3xxx',
    'authentication), but filter on the `category` column, not on id ranges. Names (`auth.login.failed`) are',
    'stable too; match on the id where a tool allows it.',
    '',
    '## Severity',
    '',
    'Severity is an integer from 1 (least) to 10 (most), fixed per event type (not per occurrence). It is on',
    'the scale of CEF severity (0-10), so a forwarder can pass it through unchanged.',
    '',
    '| severity | meaning |',
    '| --- | --- |',
    ...severityBands.map(([range, meaning]) => `| ${range} | ${cell(meaning)} |`),
    '',
    'A failed attempt is usually rated above the matching success: a single failed login means little, a',
    'stream of them is what a SIEM alerts on.',
    '',
    '## Categories',
    '',
    '| category | covers | event types |',
    '| --- | --- | --- |',
    ...categories.map(([category, meaning]) => `| \`${category}\` | ${cell(meaning)} | ${used.get(category) ?? 0} |`),
    '',
    'A category with no event types yet is reserved for a capability still being built.',
    '',
    '## Event types',
    '',
    `${events.length} event types, sorted by id.`,
    '',
    '| id | name | category | severity | description |',
    '| ---: | --- | --- | ---: | --- |',
    ...events.map((e) => `| ${e.id} | \`${cell(e.name)}\` | ${cell(e.category)} | ${e.severity} | ${cell(e.description)} |`),
    '',
  ];
  return lines.join('\n');
}

/** Writes docs/events.md, or with --check compares it and exits 1 when it is stale. */
function main(argv: string[]): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const file = path.join(root, EVENTS_DOC_PATH);
  const rendered = renderEventsDoc(eventCatalogue);
  if (argv.includes('--check')) {
    let current: string | null;
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = null;
    }
    if (current !== rendered) {
      process.stderr.write(
        `${EVENTS_DOC_PATH} is ${current === null ? 'missing' : 'out of date with src/platform/audit/catalogue.ts'}.\n` +
          'Run: npm run docs:events   and commit the result.\n',
      );
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${EVENTS_DOC_PATH} is up to date (${Object.keys(eventCatalogue).length} event types).\n`);
    return;
  }
  writeFileSync(file, rendered);
  process.stdout.write(`Wrote ${EVENTS_DOC_PATH} (${Object.keys(eventCatalogue).length} event types).\n`);
}

// Run only as a script, so the test can import renderEventsDoc without writing anything.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
