/**
 * Which credential policy applies to a credential: pure functions, no store. The rule (docs/user-guide.md
 * section 19): every filter a policy has must match; list filters match when any listed value matches, tag
 * filters only when every listed tag is present; among the matching policies the highest priority wins, and
 * on equal priority the oldest (then the smaller id, so the answer never depends on the order policies are read).
 * Comparisons ignore case: device names, sites, types, usernames and tags are matched case-insensitively,
 * because a policy that tightens rules should not miss "Administrator" for "administrator".
 */

/** What a policy's filters may name; an absent filter matches anything. */
export interface PolicyFilters {
  /** A device name pattern: `*` is any run of characters (also none), `?` exactly one. */
  deviceName?: string;
  sites?: string[];
  deviceTypes?: string[];
  /** Every listed tag must be on the device. */
  deviceTags?: string[];
  credentialTypes?: string[];
  /** Username patterns with `*` and `?`; any one may match. */
  usernames?: string[];
  /** Every listed tag must be on the credential. */
  credentialTags?: string[];
}

/** The attributes a policy is matched against; null (unknown, or a device without a site) matches no filter on it. */
export interface PolicyTarget {
  device: { name: string | null; site: string | null; type: string | null; tags: readonly string[] };
  credential: { type: string | null; username: string | null; tags: readonly string[] };
}

/** What matching needs of a policy; the winner is returned whole. */
export interface MatchablePolicy {
  id: string;
  priority: number;
  createdAt: number;
  filters: PolicyFilters;
}

const fold = (value: string) => Array.from(value.toLowerCase());

/**
 * Whether a whole value matches a pattern with `*` (any run, also empty) and `?` (one character), ignoring case.
 * Linear backtracking over the last star, never a regular expression, so no pattern can make it slow.
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  const p = fold(pattern);
  const v = fold(value);
  let pi = 0;
  let vi = 0;
  let star = -1;
  let resume = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === v[vi]))) {
      pi += 1;
      vi += 1;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi;
      resume = vi;
      pi += 1;
    } else if (star >= 0) {
      // Let the last star swallow one more character and retry from just after it.
      pi = star + 1;
      resume += 1;
      vi = resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi += 1;
  return pi === p.length;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const anyOf = (listed: readonly string[] | undefined, value: string | null) => !listed || (value !== null && listed.some((item) => same(item, value)));
const allOf = (listed: readonly string[] | undefined, present: readonly string[]) => !listed || listed.every((tag) => present.some((have) => same(tag, have)));

/** Whether every filter the policy has matches the target. */
export function policyMatches(filters: PolicyFilters, target: PolicyTarget): boolean {
  const { device, credential } = target;
  if (filters.deviceName !== undefined && (device.name === null || !wildcardMatch(filters.deviceName, device.name))) return false;
  if (filters.usernames && (credential.username === null || !filters.usernames.some((p) => wildcardMatch(p, credential.username!)))) return false;
  return anyOf(filters.sites, device.site)
    && anyOf(filters.deviceTypes, device.type)
    && anyOf(filters.credentialTypes, credential.type)
    && allOf(filters.deviceTags, device.tags)
    && allOf(filters.credentialTags, credential.tags);
}

/** Whether policy a is evaluated before b: higher priority first, then the older, then the smaller id. */
export function precedes(a: MatchablePolicy, b: MatchablePolicy): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt;
  return a.id < b.id;
}

/** The matching policies in the order they are evaluated: the first is the one that applies. */
export function matchingPolicies<P extends MatchablePolicy>(policies: readonly P[], target: PolicyTarget): P[] {
  return policies.filter((policy) => policyMatches(policy.filters, target)).sort((a, b) => (precedes(a, b) ? -1 : precedes(b, a) ? 1 : 0));
}

/** The policy that applies to the target, or null when none matches (the built-in default then applies). */
export function applicablePolicy<P extends MatchablePolicy>(policies: readonly P[], target: PolicyTarget): P | null {
  let best: P | null = null;
  for (const policy of policies) {
    if (policyMatches(policy.filters, target) && (best === null || precedes(policy, best))) best = policy;
  }
  return best;
}
