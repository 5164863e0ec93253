import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BURST_MIN, applyEvent, combine, learn, localTime, scoreEvent, signalWeights, type Baseline, type ObservedEvent, type ScoredAction, type SignalName } from './behaviour.scoring.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 0, 5, 0, 0, 0);
const warmUp = { events: 20, days: 3 };

function event(at: number, extra: Partial<ObservedEvent> = {}): ObservedEvent {
  return { seq: 1, at, action: 'credential.revealed', ip: '10.0.0.1', credentialId: 'c1', deviceId: 'd1', critical: false, emergency: false, ...localTime(at, 'UTC'), ...extra };
}

/** Ten working days of routine: logins and a few reveals at 9-16 UTC from two addresses on three credentials. */
function routineBaseline(): Baseline {
  let baseline: Baseline | null = null;
  for (let day = 0; day < 10; day++) {
    for (let i = 0; i < 6; i++) {
      const at = START + day * DAY + (9 + i) * HOUR;
      const action: ScoredAction = i === 0 ? 'auth.login.succeeded' : 'credential.revealed';
      baseline = learn(baseline, event(at, { action, ip: i % 2 ? '10.0.0.1' : '10.0.0.2', credentialId: action === 'auth.login.succeeded' ? null : `c${i % 3}`, deviceId: action === 'auth.login.succeeded' ? null : 'd1' }));
    }
  }
  return baseline!;
}

const signalNames = (result: { signals: { name: SignalName }[] }) => result.signals.map((s) => s.name).sort();

describe('behaviour scoring', () => {
  it('a new user reveals without any alertable score: novelty stays silent during warm-up', () => {
    const result = scoreEvent(null, event(START + 3 * HOUR, { ip: '203.0.113.9' }), warmUp);
    expect(result).toEqual({ score: 0, signals: [] });
  });

  it('routine behaviour after warm-up scores 0', () => {
    const baseline = routineBaseline();
    const at = START + 11 * DAY + 10 * HOUR;
    expect(scoreEvent(baseline, event(at, { ip: '10.0.0.2', credentialId: 'c2' }), warmUp)).toEqual({ score: 0, signals: [] });
  });

  it('a new address at an unusual hour on a credential never used fires all three', () => {
    const baseline = routineBaseline();
    const result = scoreEvent(baseline, event(START + 11 * DAY + 3 * HOUR, { ip: '203.0.113.9', credentialId: 'c9' }), warmUp);
    expect(signalNames(result)).toEqual(['first_use_credential', 'new_source', 'unusual_hour']);
    expect(result.score).toBe(signalWeights.new_source + signalWeights.unusual_hour + signalWeights.first_use_credential);
  });

  it('first use of a critical credential and emergency access fire even during warm-up', () => {
    const result = scoreEvent(null, event(START, { critical: true, emergency: true }), warmUp);
    expect(signalNames(result)).toEqual(['emergency_access', 'first_use_critical']);
    expect(result.score).toBe(80);
  });

  it(`${BURST_MIN} reveals within ten minutes are a burst for a user with little volume`, () => {
    let baseline: Baseline | null = null;
    let last = { score: 0, signals: [] as { name: SignalName }[] };
    for (let i = 0; i < BURST_MIN; i++) {
      const e = event(START + i * 30_000);
      last = scoreEvent(baseline, e, warmUp);
      baseline = learn(baseline, e);
    }
    expect(signalNames(last)).toEqual(['reveal_burst']);
  });

  it('five failed logins in 15 minutes are a failed-login burst, and the login after them is flagged', () => {
    let baseline: Baseline | null = null;
    const results = [];
    for (let i = 0; i < 5; i++) {
      const e = event(START + i * 60_000, { action: 'auth.login.failed', credentialId: null, deviceId: null });
      results.push(scoreEvent(baseline, e, warmUp));
      baseline = learn(baseline, e);
    }
    expect(results.slice(0, 4).every((r) => r.score === 0)).toBe(true);
    expect(signalNames(results[4]!)).toEqual(['failed_login_burst']);
    const login = scoreEvent(baseline, event(START + 6 * 60_000, { action: 'auth.login.succeeded', credentialId: null, deviceId: null }), warmUp);
    expect(signalNames(login)).toEqual(['login_after_failures']);
    expect(learn(baseline, event(START + 6 * 60_000, { action: 'auth.login.succeeded' })).recentFailures).toEqual([]);
  });

  it('failed logins teach no source address', () => {
    const baseline = learn(null, event(START, { action: 'auth.login.failed', ip: '203.0.113.9' }));
    expect(baseline.sources).toEqual({});
    expect(baseline.failedLogins).toBe(1);
  });

  it('learn leaves its input unchanged and keeps its maps bounded', () => {
    let baseline = routineBaseline();
    const copy = JSON.stringify(baseline);
    learn(baseline, event(START + 20 * DAY, { ip: '198.51.100.1' }));
    expect(JSON.stringify(baseline)).toBe(copy);
    for (let i = 0; i < 80; i++) baseline = learn(baseline, event(START + 20 * DAY + i * HOUR, { ip: `198.51.100.${i}`, credentialId: `x${i}` }));
    expect(Object.keys(baseline.sources).length).toBeLessThanOrEqual(50);
    expect(Object.keys(baseline.days).length).toBeLessThanOrEqual(30);
  });

  it('keeps at most 600 credentials per user, pruning the least used back to 500 and never the one just used', () => {
    const baseline = routineBaseline();
    for (let i = 0; i < 2_000; i++) applyEvent(baseline, event(START + 20 * DAY + i * 1000, { credentialId: `c${i}` }));
    const kept = Object.keys(baseline.credentials).length;
    expect(kept).toBeGreaterThanOrEqual(500);
    expect(kept).toBeLessThanOrEqual(600);
    expect(baseline.credentials['c1999']).toBe(1);
  });

  it('local time follows the time zone', () => {
    expect(localTime(Date.UTC(2026, 0, 5, 23, 30), 'UTC')).toEqual({ hour: 23, day: '2026-01-05' });
    expect(localTime(Date.UTC(2026, 0, 5, 23, 30), 'Europe/Paris')).toEqual({ hour: 0, day: '2026-01-06' });
  });
});

const actionArb = fc.constantFrom<ScoredAction>('auth.login.succeeded', 'auth.login.failed', 'credential.revealed', 'credential.checked_out');
const eventArb = (at: fc.Arbitrary<number>) =>
  fc.record({ at, action: actionArb, ip: fc.option(fc.constantFrom('10.0.0.1', '10.0.0.2', '203.0.113.9'), { nil: null }), credentialId: fc.option(fc.constantFrom('c1', 'c2', 'c3'), { nil: null }), critical: fc.boolean(), emergency: fc.boolean() })
    .map((e) => event(e.at, { ...e, deviceId: e.credentialId ? `d-${e.credentialId}` : null }));
const historyArb = fc.array(eventArb(fc.integer({ min: START, max: START + 10 * DAY })), { maxLength: 60 }).map((events) => events.sort((a, b) => a.at - b.at));

describe('behaviour scoring properties', () => {
  it('the score is always a whole number within 0-100 and equals the capped sum of the signals', () => {
    fc.assert(fc.property(historyArb, eventArb(fc.integer({ min: START + 10 * DAY, max: START + 12 * DAY })), (history, next) => {
      const baseline = history.reduce<Baseline | null>((b, e) => learn(b, e), null);
      const { score, signals } = scoreEvent(baseline, next, warmUp);
      expect(Number.isInteger(score)).toBe(true);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(100);
      expect(score).toBe(Math.min(100, signals.reduce((a, s) => a + s.weight, 0)));
    }), { numRuns: 300 });
  });

  it('more signals never lower the score', () => {
    const names = Object.keys(signalWeights) as SignalName[];
    fc.assert(fc.property(fc.subarray(names), fc.subarray(names), (some, more) => {
      const of = (list: SignalName[]) => list.map((name) => ({ weight: signalWeights[name] }));
      expect(combine(of([...some, ...more]))).toBeGreaterThanOrEqual(combine(of(some)));
    }));
  });

  it('emergency access or a critical device never lowers the score of the same event', () => {
    fc.assert(fc.property(historyArb, eventArb(fc.integer({ min: START + 10 * DAY, max: START + 12 * DAY })), (history, next) => {
      const baseline = history.reduce<Baseline | null>((b, e) => learn(b, e), null);
      const plain = scoreEvent(baseline, { ...next, emergency: false }, warmUp).score;
      expect(scoreEvent(baseline, { ...next, emergency: true }, warmUp).score).toBeGreaterThanOrEqual(plain);
    }), { numRuns: 200 });
  });

  it("a user's routine after the warm-up scores low", () => {
    const routine = fc.record({ day: fc.integer({ min: 0, max: 13 }), hour: fc.integer({ min: 9, max: 16 }), minute: fc.integer({ min: 0, max: 59 }), ip: fc.constantFrom('10.0.0.1', '10.0.0.2'), credential: fc.constantFrom('c0', 'c1', 'c2'), login: fc.boolean() });
    fc.assert(fc.property(fc.array(routine, { minLength: 40, maxLength: 120 }), routine, (days, next) => {
      const toEvent = (r: typeof next, offsetDays = 0) => event(START + (r.day + offsetDays) * DAY + r.hour * HOUR + r.minute * 60_000, r.login ? { action: 'auth.login.succeeded', ip: r.ip, credentialId: null, deviceId: null } : { ip: r.ip, credentialId: r.credential, deviceId: 'd1' });
      // Every routine credential and address is used at least once, as a routine would.
      const seed: (typeof next)[] = (['c0', 'c1', 'c2'] as const).flatMap((credential, i) => (['10.0.0.1', '10.0.0.2'] as const).map((ip, j) => ({ day: 0, hour: 9 + i, minute: j * 20, ip, credential, login: false })));
      const history = [...seed, ...days].map((r) => toEvent(r)).sort((a, b) => a.at - b.at);
      const baseline = history.reduce<Baseline | null>((b, e) => learn(b, e), null);
      const result = scoreEvent(baseline, toEvent(next, 15), warmUp);
      expect(result.signals.map((s) => s.name)).not.toContain('new_source');
      expect(result.score).toBeLessThan(30);
    }), { numRuns: 200 });
  });
});
