import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accessModes, candidatesFor, compilePolicy, decide, indexPolicies, type AccessAction, type AccessPolicy, type ActionRule, type Decision, type Subject, type Target } from './access-engine.js';
import { weekdays } from './access-time.js';

const users = ['u1', 'u2', 'u3'];
const groups = ['g1', 'g2'];
const ids = (pool: string[]) => fc.subarray(pool);

const rule: fc.Arbitrary<ActionRule> = fc.record({
  mode: fc.constantFrom(...accessModes),
  levels: fc.array(fc.record({ approvers: fc.record({ users: ids(users), groups: ids(groups) }), required: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 3 }),
  approvalValidMinutes: fc.integer({ min: 1, max: 10_080 }),
  timeRestriction: fc.option(
    fc.record({ timeZone: fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'), weekdays: fc.subarray([...weekdays], { minLength: 1 }), hours: fc.constantFrom({ from: '08:00', to: '18:00' }, { from: '22:00', to: '06:00' }, { from: '00:00', to: '24:00' }) }),
    { nil: undefined },
  ),
  emergencyAllowed: fc.boolean(),
}).map((r) => (r.mode === 'approval' ? r : { mode: r.mode, timeRestriction: r.timeRestriction, emergencyAllowed: r.emergencyAllowed }));

// Filters are left out more often than set, so that generated policies overlap and their combination is exercised.
const maybe = <T>(arb: fc.Arbitrary<T[]>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: arb, weight: 1 });
const policyBody = fc.record({
  enabled: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
  members: fc.record({ users: ids(users), groups: ids(groups) }),
  filters: fc.record({
    deviceNames: maybe(fc.subarray(['*', 'db-*', 'WEB-??', '*-01'], { minLength: 1 })),
    deviceSites: maybe(fc.subarray(['paris', 'Berlin'], { minLength: 1 })),
    deviceTypes: maybe(fc.subarray(['linux', 'windows'], { minLength: 1 })),
    deviceTags: maybe(fc.subarray(['prod', 'pci'], { minLength: 1 })),
    credentialUsernames: maybe(fc.subarray(['root', '{user.username}', 'adm*', 'a?ice'], { minLength: 1 })),
    credentialTags: maybe(fc.subarray(['prod', 'dev'], { minLength: 1 })),
    credentialTypes: maybe(fc.subarray(['password', 'ssh-key'], { minLength: 1 })),
  }, { requiredKeys: [] }),
  actions: fc.record({ reveal: rule, session: rule, history: rule }, { requiredKeys: [] }),
});
const policies = fc.array(policyBody, { maxLength: 8 }).map((bodies) => bodies.map((b, i): AccessPolicy => ({ id: `p${String(i).padStart(2, '0')}`, ...b })));
const extraPolicy = policyBody.map((b): AccessPolicy => ({ id: 'p-extra', ...b }));
const subject: fc.Arbitrary<Subject> = fc.record({ userId: fc.constantFrom(...users), username: fc.constantFrom('alice', 'Bob', 'root'), groupIds: ids(groups) });
const target: fc.Arbitrary<Target> = fc.record({
  device: fc.record({ name: fc.constantFrom('db-01', 'web-01', 'WEB-02', 'mail'), site: fc.constantFrom('Paris', 'berlin', null), type: fc.constantFrom('linux', 'windows', null), tags: fc.subarray(['prod', 'PCI', 'dev']) }),
  credential: fc.record({ username: fc.constantFrom('root', 'alice', 'BOB', 'admin'), tags: fc.subarray(['prod', 'dev']), type: fc.constantFrom('password', 'ssh-key', 'api-key') }),
});
const action = fc.constantFrom<AccessAction>('reveal', 'session', 'history');
const now = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2026-12-31T00:00:00Z') });
const run = (list: AccessPolicy[], s: Subject, t: Target, a: AccessAction, at: number) => decide(list.map(compilePolicy), s, t, a, at);

/** The written rule as a check: `after` asks at least everything `before` asks (a grant may only appear, never loosen). */
function atLeastAsRestrictive(after: Decision, before: Decision): boolean {
  if (!before.granted) return true;
  if (!after.granted) return false;
  const b = before.requirements;
  const a = after.requirements;
  const subset = (x: string[], y: string[]) => x.every((v) => y.includes(v));
  const approvalOk = !b.approval || (a.approval !== null && a.approval.validMinutes <= b.approval.validMinutes &&
    b.approval.levels.every((stage) => stage.constraints.every((c) => a.approval!.levels[stage.level - 1]?.constraints.some((d) => JSON.stringify(d.approvers) === JSON.stringify(c.approvers) && d.required >= c.required))));
  return accessModes.indexOf(after.mode) >= accessModes.indexOf(before.mode) && (a.justification || !b.justification) && approvalOk &&
    (b.timeWindow.ok || !a.timeWindow.ok) && subset(b.timeWindow.restrictedBy, a.timeWindow.restrictedBy) &&
    (!a.emergencyAllowed || b.emergencyAllowed) && (before.denial === null || after.denial !== null) && subset(before.matchedPolicyIds, after.matchedPolicyIds);
}

describe('policy evaluation (properties)', () => {
  it('adding a policy never makes a granted decision less restrictive', () => {
    fc.assert(fc.property(policies, extraPolicy, subject, target, action, now, (list, extra, s, t, a, at) => {
      expect(atLeastAsRestrictive(run([...list, extra], s, t, a, at), run(list, s, t, a, at))).toBe(true);
    }), { numRuns: 2000 });
  });

  it('the order of the policies never matters', () => {
    fc.assert(fc.property(policies.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }))), subject, target, action, now, ([list, shuffled], s, t, a, at) => {
      expect(run(shuffled, s, t, a, at)).toEqual(run(list, s, t, a, at));
    }), { numRuns: 1000 });
  });

  it('the member index finds exactly the policies that can decide: same answer as scanning them all', () => {
    fc.assert(fc.property(policies, subject, target, action, now, (list, s, t, a, at) => {
      const compiled = list.map(compilePolicy);
      expect(decide(candidatesFor(indexPolicies(compiled), s), s, t, a, at)).toEqual(decide(compiled, s, t, a, at));
    }), { numRuns: 1000 });
  });

  it('a policy whose only username filter is the mask grants exactly the credential named like the caller', () => {
    fc.assert(fc.property(fc.constantFrom('alice', 'ALICE', 'bob', 'root'), fc.constantFrom('alice', 'Alice', 'bob', 'root', 'admin'), (own, credentialUser) => {
      const policy: AccessPolicy = { id: 'p1', enabled: true, members: { users: ['u1'], groups: [] }, filters: { credentialUsernames: ['{user.username}'] }, actions: { reveal: { mode: 'allow', emergencyAllowed: false } } };
      const t: Target = { device: { name: 'db', site: null, type: null, tags: [] }, credential: { username: credentialUser, tags: [], type: 'password' } };
      expect(run([policy], { userId: 'u1', username: own, groupIds: [] }, t, 'reveal', 0).granted).toBe(own.toLowerCase() === credentialUser.toLowerCase());
    }));
  });
});

const base = (id: string, actions: AccessPolicy['actions'], extra: Partial<AccessPolicy> = {}): AccessPolicy => ({ id, enabled: true, members: { users: ['u1'], groups: [] }, filters: {}, actions, ...extra });
const alice: Subject = { userId: 'u1', username: 'alice', groupIds: ['g1'] };
const dbRoot: Target = { device: { name: 'db-01', site: 'Paris', type: 'linux', tags: ['prod'] }, credential: { username: 'root', tags: ['prod'], type: 'password' } };
const monday10Utc = Date.parse('2026-01-05T10:00:00Z');

describe('policy evaluation (the written rule)', () => {
  it('no policy: not granted and invisible; a policy granting only another action: visible but not granted', () => {
    expect(run([], alice, dbRoot, 'reveal', monday10Utc)).toEqual({ granted: false, reason: 'NO_MATCHING_POLICY', visible: false, matchedPolicyIds: [] });
    expect(run([base('p1', { session: { mode: 'allow', emergencyAllowed: false } })], alice, dbRoot, 'reveal', monday10Utc)).toEqual({ granted: false, reason: 'ACTION_NOT_GRANTED', visible: true, matchedPolicyIds: [] });
  });

  it('a disabled policy, one for other members, or one whose filters do not match grants nothing; a tag filter needs every listed tag', () => {
    const allow = { reveal: { mode: 'allow' as const, emergencyAllowed: false } };
    for (const policy of [base('p1', allow, { enabled: false }), base('p2', allow, { members: { users: ['u2'], groups: ['g2'] } }), base('p3', allow, { filters: { deviceSites: ['berlin'] } }), base('p4', allow, { filters: { credentialTags: ['prod', 'dev'], deviceNames: ['db-*'] } })]) {
      expect(run([policy], alice, dbRoot, 'reveal', monday10Utc).granted, policy.id).toBe(false);
    }
    expect(run([base('p5', allow, { members: { users: [], groups: ['g1'] }, filters: { deviceNames: ['web-*', 'DB-*'], deviceSites: ['paris', 'berlin'], credentialTags: ['PROD'], deviceTags: ['prod'] } })], alice, dbRoot, 'reveal', monday10Utc).granted).toBe(true);
  });

  it('approval beats justification beats allow; approval levels merge stage by stage, equal approver sets keep the larger count, the shortest validity wins', () => {
    const level = (users: string[], required: number) => ({ approvers: { users, groups: [] }, required });
    const decision = run([
      base('p1', { reveal: { mode: 'allow', emergencyAllowed: true } }),
      base('p2', { reveal: { mode: 'justification', emergencyAllowed: true } }),
      base('p3', { reveal: { mode: 'approval', levels: [level(['u2', 'u3'], 1), level(['u3'], 1)], approvalValidMinutes: 120, emergencyAllowed: true } }),
      base('p4', { reveal: { mode: 'approval', levels: [level(['u3', 'u2'], 2)], approvalValidMinutes: 30, emergencyAllowed: false } }),
    ], alice, dbRoot, 'reveal', monday10Utc);
    expect(decision).toEqual({
      granted: true,
      mode: 'approval',
      requirements: {
        justification: true,
        approval: { validMinutes: 30, levels: [
          { level: 1, constraints: [{ approvers: { users: ['u2', 'u3'], groups: [] }, required: 2, policyIds: ['p3', 'p4'] }] },
          { level: 2, constraints: [{ approvers: { users: ['u3'], groups: [] }, required: 1, policyIds: ['p3'] }] },
        ] },
        timeWindow: { ok: true, restrictedBy: [], outsideOf: [] },
        emergencyAllowed: false,
        totpStepUp: false,
      },
      denial: null,
      matchedPolicyIds: ['p1', 'p2', 'p3', 'p4'],
    });
  });

  it('a time restriction of any matching policy applies: outside it the decision is denied with ACCESS_OUTSIDE_WINDOW', () => {
    const office = { timeZone: 'Asia/Kolkata', weekdays: ['mon' as const], hours: { from: '09:00', to: '15:00' } };
    const list = [base('p1', { reveal: { mode: 'allow', emergencyAllowed: true } }), base('p2', { reveal: { mode: 'allow', timeRestriction: office, emergencyAllowed: true } })];
    const inside = run(list, alice, dbRoot, 'reveal', Date.parse('2026-01-05T05:00:00Z')); // 10:30 in Kolkata
    expect(inside).toMatchObject({ granted: true, denial: null, requirements: { timeWindow: { ok: true, restrictedBy: ['p2'], outsideOf: [] } } });
    const outside = run(list, alice, dbRoot, 'reveal', monday10Utc); // 15:30 in Kolkata
    expect(outside).toMatchObject({ granted: true, denial: 'ACCESS_OUTSIDE_WINDOW', requirements: { timeWindow: { ok: false, outsideOf: ['p2'] }, emergencyAllowed: true } });
  });
});
