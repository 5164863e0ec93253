import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, matchPattern, patternProblem } from './access-patterns.js';
import { canonicalTimeZone, compileWindow, insideWindow, weekdays, type TimeRestriction } from './access-time.js';

const matches = (pattern: string, text: string, username = '', allowMask = true) => matchPattern(compilePattern(pattern, allowMask), text.toLowerCase(), username.toLowerCase());

/** A reference matcher built differently: the pattern turned into an anchored regular expression. */
function referenceMatch(pattern: string, text: string): boolean {
  const source = [...pattern.toLowerCase()].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, 's').test(text.toLowerCase());
}

describe('name patterns', () => {
  it('* matches any run, ? exactly one character, case-insensitively; everything else is literal', () => {
    expect(matches('db-*', 'DB-prod-01')).toBe(true);
    expect(matches('db-*', 'web-01')).toBe(false);
    expect(matches('web-??', 'web-01')).toBe(true);
    expect(matches('web-??', 'web-1')).toBe(false);
    expect(matches('*', '')).toBe(true);
    expect(matches('a.b', 'axb')).toBe(false);
    expect(matches('[x]', '[X]')).toBe(true);
  });

  it('agrees with a regular-expression reference on random patterns and names', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'A', '-', '.'), maxLength: 12 });
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', 'B', '-', '.', '*', '?'), maxLength: 10 });
    fc.assert(fc.property(pattern, text, (p, t) => matches(p, t, '', false) === referenceMatch(p, t)), { numRuns: 3000 });
  });

  it('a hostile pattern costs little: no catastrophic backtracking', () => {
    const started = performance.now();
    expect(matches(`${'*a'.repeat(50)}b`, 'a'.repeat(200))).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('the {user.username} mask matches only the requesting user\'s own username, case-insensitively', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'b', 'A', 'B', '.', '-', '*', '?'), minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(name, name, (own, credential) => {
        expect(matches('{user.username}', credential, own)).toBe(own.toLowerCase() === credential.toLowerCase());
        // Around the mask the wildcards still work; a * or ? inside a username is a literal, never a wildcard.
        expect(matches('adm-{user.username}', `ADM-${credential}`, own)).toBe(own.toLowerCase() === credential.toLowerCase());
        expect(matches('{user.username}*', credential, own)).toBe(credential.toLowerCase().startsWith(own.toLowerCase()));
      }),
      { numRuns: 2000 },
    );
  });

  it('the mask is refused outside credential usernames, and no other placeholder exists', () => {
    expect(patternProblem('{user.username}', false)).toMatch(/only in credentialUsernames/);
    expect(patternProblem('{user.email}', true)).toMatch(/only mask/);
    expect(patternProblem('adm-{user.username}', true)).toBeNull();
    expect(patternProblem('db-{1}', false)).toBeNull();
  });
});

/** The local weekday (Monday = 0) and minute by another route: the zone's UTC offset from Intl, then plain arithmetic. */
function referenceLocal(instant: number, timeZone: string) {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(instant).find((p) => p.type === 'timeZoneName')!.value;
  const m = /GMT(?:([+-])(\d{2}):(\d{2}))?/.exec(name)!;
  const offset = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const local = new Date(instant + offset * 60_000);
  return { day: (local.getUTCDay() + 6) % 7, minutes: local.getUTCHours() * 60 + local.getUTCMinutes() };
}

/** Inside by another formulation: minute of the week against each allowed day's interval, modulo one week. */
function referenceInside(restriction: TimeRestriction, instant: number): boolean {
  const { day, minutes } = referenceLocal(instant, restriction.timeZone);
  const at = day * 1440 + minutes;
  const from = restriction.hours ? Number(restriction.hours.from.slice(0, 2)) * 60 + Number(restriction.hours.from.slice(3)) : 0;
  let to = restriction.hours ? Number(restriction.hours.to.slice(0, 2)) * 60 + Number(restriction.hours.to.slice(3)) : 1440;
  if (to <= from) to += 1440;
  return (restriction.weekdays ?? weekdays).some((d) => {
    const start = weekdays.indexOf(d) * 1440 + from;
    const offset = (((at - start) % 10080) + 10080) % 10080;
    return offset < to - from;
  });
}

const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Sao_Paulo', 'Australia/Sydney', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns', 'Pacific/Kiritimati', 'Pacific/Pago_Pago'];
// DST changes of 2026 (UTC instants): Europe, the United States and Canada, Australia, New Zealand's Chatham Islands.
const transitions = ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', '2026-04-04T16:00:00Z', '2026-10-03T16:00:00Z', '2026-04-04T14:00:00Z', '2026-09-26T14:00:00Z', '2026-03-08T05:30:00Z'].map(Date.parse);
const hhmm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.constantFrom(0, 1, 15, 30, 45, 59)).map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
const restriction: fc.Arbitrary<TimeRestriction> = fc
  .record({
    timeZone: fc.constantFrom(...zones),
    weekdays: fc.option(fc.subarray([...weekdays], { minLength: 1 }), { nil: undefined }),
    hours: fc.option(fc.tuple(hhmm, fc.oneof(hhmm, fc.constant('24:00'))).filter(([a, b]) => a !== b).map(([from, to]) => ({ from, to })), { nil: undefined }),
  })
  .filter((r) => r.weekdays !== undefined || r.hours !== undefined);
const nearTransition = fc.tuple(fc.constantFrom(...transitions), fc.integer({ min: -4 * 3600, max: 4 * 3600 })).map(([t, s]) => t + s * 1000);
const anyInstant = fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2028-12-31T00:00:00Z') });

describe('time windows', () => {
  it('reads the wall clock of the window\'s time zone: agrees with an offset-based reference, at DST changes too', () => {
    fc.assert(fc.property(restriction, fc.oneof(anyInstant, nearTransition), (r, instant) => insideWindow(compileWindow(r), instant) === referenceInside(r, instant)), { numRuns: 5000 });
  });

  it('a window across midnight belongs to the day it starts: Friday 22:00-06:00 covers Saturday 05:59, not Friday 05:59', () => {
    const w = compileWindow({ timeZone: 'Europe/Berlin', weekdays: ['fri'], hours: { from: '22:00', to: '06:00' } });
    // 2026-01-09 is a Friday; Berlin is UTC+1 in January.
    expect(insideWindow(w, Date.parse('2026-01-09T21:00:00Z'))).toBe(true);
    expect(insideWindow(w, Date.parse('2026-01-10T04:59:00Z'))).toBe(true);
    expect(insideWindow(w, Date.parse('2026-01-10T05:00:00Z'))).toBe(false);
    expect(insideWindow(w, Date.parse('2026-01-09T04:59:00Z'))).toBe(false);
    expect(insideWindow(w, Date.parse('2026-01-09T20:59:00Z'))).toBe(false);
  });

  it('the same instant is inside a window in one zone and outside it in another', () => {
    const instant = Date.parse('2026-01-05T16:30:00Z'); // Monday: 17:30 in Berlin, 11:30 in New York, 22:00 in Kolkata
    const office = (timeZone: string) => compileWindow({ timeZone, weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: { from: '09:00', to: '18:00' } });
    expect(insideWindow(office('Europe/Berlin'), instant)).toBe(true);
    expect(insideWindow(office('America/New_York'), instant)).toBe(true);
    expect(insideWindow(office('Asia/Kolkata'), instant)).toBe(false);
  });

  it('accepts IANA zones by their canonical name and refuses offsets and unknown names', () => {
    expect(canonicalTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(canonicalTimeZone('utc')).toBe('UTC');
    for (const bad of ['Mars/Olympus', '+02:00', 'GMT+2 ', '', 'Europe/Berlin; drop']) expect(canonicalTimeZone(bad), bad).toBeNull();
  });
});
