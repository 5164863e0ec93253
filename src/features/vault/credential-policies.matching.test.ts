import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applicablePolicy, matchingPolicies, policyMatches, precedes, wildcardMatch, type MatchablePolicy, type PolicyFilters, type PolicyTarget } from './credential-policies.matching.js';

// Small value sets, so random policies and targets match each other often enough to exercise every branch.
const names = ['web-01', 'web-02', 'db-01', 'DB-02', 'fw-paris'];
const sites = ['paris', 'Lyon', 'berlin'];
const types = ['linux', 'windows', 'router'];
const tagPool = ['prod', 'pci', 'dmz', 'lab'];
const users = ['root', 'admin', 'Administrator', 'svc-backup', 'oracle'];
const credentialTypes = ['password', 'ssh-key', 'api-key'];

const nonEmpty = <T>(values: T[]) => fc.subarray(values, { minLength: 1 });
const pattern = (values: string[]) => fc.oneof(fc.constantFrom(...values), fc.constantFrom('*', 'web-*', 'db-0?', '?????', '*-01', 'adm*', '*o*'));

const filterArbs = {
  deviceName: pattern(names),
  sites: nonEmpty(sites),
  deviceTypes: nonEmpty(types),
  deviceTags: nonEmpty(tagPool),
  credentialTypes: nonEmpty(credentialTypes),
  usernames: fc.array(pattern(users), { minLength: 1, maxLength: 3 }),
  credentialTags: nonEmpty(tagPool),
};
// Mostly zero to two filters each, so several policies match one target and priority ties are common.
const filtersArb: fc.Arbitrary<PolicyFilters> = fc
  .subarray(Object.keys(filterArbs) as (keyof typeof filterArbs)[], { maxLength: 3 })
  .chain((keys) => fc.record(Object.fromEntries(keys.map((key) => [key, filterArbs[key]]))) as fc.Arbitrary<PolicyFilters>);

const targetArb: fc.Arbitrary<PolicyTarget> = fc.record({
  device: fc.record({ name: fc.option(fc.constantFrom(...names), { nil: null }), site: fc.option(fc.constantFrom(...sites), { nil: null }), type: fc.option(fc.constantFrom(...types), { nil: null }), tags: fc.subarray(tagPool) }),
  credential: fc.record({ type: fc.option(fc.constantFrom(...credentialTypes), { nil: null }), username: fc.option(fc.constantFrom(...users), { nil: null }), tags: fc.subarray(tagPool) }),
});

// Priorities and creation times from small ranges, so ties happen and the tie-break is exercised.
const policyArb = (index: number): fc.Arbitrary<MatchablePolicy> =>
  fc.record({ priority: fc.integer({ min: 0, max: 3 }), createdAt: fc.integer({ min: 0, max: 3 }), filters: filtersArb }).map((p) => ({ ...p, id: `p${String(index).padStart(3, '0')}` }));
const policiesArb = fc.integer({ min: 0, max: 12 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => policyArb(i))));

describe('applicablePolicy (properties)', () => {
  it('the winner always matches the target, and is null only when nothing matches', () => {
    fc.assert(fc.property(policiesArb, targetArb, (policies, target) => {
      const winner = applicablePolicy(policies, target);
      if (winner) expect(policyMatches(winner.filters, target)).toBe(true);
      else expect(policies.some((p) => policyMatches(p.filters, target))).toBe(false);
    }), { numRuns: 500 });
  });

  it('no matching policy has a higher priority than the winner, nor the same priority and an older creation', () => {
    fc.assert(fc.property(policiesArb, targetArb, (policies, target) => {
      const winner = applicablePolicy(policies, target);
      for (const other of policies.filter((p) => p !== winner && policyMatches(p.filters, target))) {
        expect(other.priority).toBeLessThanOrEqual(winner!.priority);
        if (other.priority === winner!.priority) expect(other.createdAt).toBeGreaterThanOrEqual(winner!.createdAt);
        expect(precedes(other, winner!)).toBe(false);
      }
    }), { numRuns: 500 });
  });

  it('adding a policy that does not match never changes the result', () => {
    fc.assert(fc.property(policiesArb, targetArb, policyArb(999), fc.nat(), (policies, target, extra, at) => {
      fc.pre(!policyMatches(extra.filters, target));
      const before = applicablePolicy(policies, target);
      const withExtra = [...policies];
      withExtra.splice(at % (policies.length + 1), 0, extra);
      expect(applicablePolicy(withExtra, target)).toBe(before);
    }), { numRuns: 500 });
  });

  it('the order the policies are read in does not matter, and the preview list starts with the winner', () => {
    fc.assert(fc.property(policiesArb, targetArb, fc.func(fc.integer()), (policies, target, key) => {
      const shuffled = [...policies].sort((a, b) => key(a.id) - key(b.id) || a.id.localeCompare(b.id));
      const winner = applicablePolicy(policies, target);
      expect(applicablePolicy(shuffled, target)).toBe(winner);
      const ordered = matchingPolicies(shuffled, target);
      expect(ordered[0] ?? null).toBe(winner);
      expect(ordered).toEqual(matchingPolicies(policies, target));
    }), { numRuns: 300 });
  });

  it('a policy without filters matches every target', () => {
    fc.assert(fc.property(targetArb, (target) => { expect(policyMatches({}, target)).toBe(true); }));
  });
});

/** The reference semantics: the pattern as an anchored regular expression, compared case-insensitively. */
const reference = (p: string, v: string) =>
  new RegExp(`^${[...p].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, 'is').test(v);

describe('wildcardMatch (properties)', () => {
  const ascii = fc.string({ unit: fc.constantFrom(...'abAB.-_*?x'), maxLength: 12 });

  it('agrees with the anchored regular expression where * is .* and ? is . (case-insensitive)', () => {
    fc.assert(fc.property(ascii, fc.string({ unit: fc.constantFrom(...'abAB.-_x'), maxLength: 12 }), (p, v) => { expect(wildcardMatch(p, v)).toBe(reference(p, v)); }), { numRuns: 2000 });
  });

  it('a value matches itself (without wildcards), * matches anything, and case never matters', () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }).filter((s) => !/[*?]/.test(s)), (v) => {
      expect(wildcardMatch(v, v)).toBe(true);
      expect(wildcardMatch('*', v)).toBe(true);
      expect(wildcardMatch(v.toUpperCase(), v.toLowerCase())).toBe(true);
    }));
  });

  it('? matches exactly one character: n question marks match exactly the values of n characters', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 10 }), fc.integer({ min: 0, max: 10 }), (v, n) => {
      expect(wildcardMatch('?'.repeat(n), v)).toBe([...v].length === n);
    }));
  });

  it('replacing any run of a value by * keeps it matching; a prefix pattern needs the prefix', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 20 }).filter((s) => !/[*?]/.test(s)), fc.nat(), fc.nat(), (v, a, b) => {
      const start = a % (v.length + 1);
      const end = start + (b % (v.length - start + 1));
      expect(wildcardMatch(`${v.slice(0, start)}*${v.slice(end)}`, v)).toBe(true);
      expect(wildcardMatch(`${v}x*`, v)).toBe(false);
    }));
  });

  it('stays fast on patterns built to make naive backtracking explode', () => {
    const started = performance.now();
    expect(wildcardMatch(`${'*a'.repeat(50)}b`, 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('the documented matching rule (examples)', () => {
  const target: PolicyTarget = { device: { name: 'web-01.paris', site: 'Paris', type: 'linux', tags: ['prod', 'PCI'] }, credential: { type: 'password', username: 'root', tags: ['break-glass'] } };
  const policy = (id: string, filters: PolicyFilters, priority = 0, createdAt = 0): MatchablePolicy => ({ id, filters, priority, createdAt });

  it('list filters match on any value; tag filters need every listed tag', () => {
    expect(policyMatches({ sites: ['lyon', 'paris'] }, target)).toBe(true);
    expect(policyMatches({ deviceTags: ['pci'] }, target)).toBe(true);
    expect(policyMatches({ deviceTags: ['prod', 'pci'] }, target)).toBe(true);
    expect(policyMatches({ deviceTags: ['prod', 'dmz'] }, target)).toBe(false);
    expect(policyMatches({ credentialTags: ['break-glass'], credentialTypes: ['ssh-key', 'password'] }, target)).toBe(true);
  });

  it('every filter present must match', () => {
    expect(policyMatches({ deviceName: 'web-*', usernames: ['admin', 'r??t'] }, target)).toBe(true);
    expect(policyMatches({ deviceName: 'web-*', usernames: ['admin'] }, target)).toBe(false);
    expect(policyMatches({ deviceName: 'web-*', deviceTypes: ['windows'] }, target)).toBe(false);
  });

  it('an unknown attribute (null) matches no filter on it', () => {
    const siteless: PolicyTarget = { ...target, device: { ...target.device, site: null } };
    expect(policyMatches({ sites: ['paris'] }, siteless)).toBe(false);
    expect(policyMatches({ deviceName: '*' }, { ...target, device: { ...target.device, name: null } })).toBe(false);
  });

  it('the highest priority wins; on a tie the oldest; then the smaller id', () => {
    expect(applicablePolicy([policy('a', {}, 1), policy('b', { sites: ['paris'] }, 5), policy('c', {}, 9, 0)], target)?.id).toBe('c');
    expect(applicablePolicy([policy('young', {}, 5, 20), policy('old', {}, 5, 10)], target)?.id).toBe('old');
    expect(applicablePolicy([policy('y', {}, 5, 10), policy('x', {}, 5, 10)], target)?.id).toBe('x');
    expect(applicablePolicy([policy('miss', { sites: ['lyon'] }, 9)], target)).toBeNull();
  });
});
