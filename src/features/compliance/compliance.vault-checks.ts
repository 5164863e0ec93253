import type { DbOrTx } from '../../platform/db/database.js';
import { compilePolicy, decide, type AccessPolicy, type CompiledPolicy, type Subject } from '../access/access-engine.js';
import { USERNAME_MASK } from '../access/access-patterns.js';
import { policyFromRows } from '../access/access-policy-rows.js';
import { allPoliciesWithSubjects } from '../access/access-policies.store.js';
import { targetsOf } from '../access/access-visibility.store.js';
import { applicablePolicy, type PolicyFilters } from '../vault/credential-policies.matching.js';
import { DEFAULT_POLICY_RULES, type PolicyRules } from '../vault/credential-policies.schemas.js';
import { listPolicies as listCredentialPolicies } from '../vault/credential-policies.store.js';
import { DAY_MS, NEVER_ROTATED_DAYS, OFFENDER_LIMIT, REVIEW_INTERVAL_DAYS, daysBetween, ratioControl, type ControlResult, type Offender } from './compliance.controls.js';
import * as store from './compliance.store.js';
import { reconciliationOf } from '../rotation/reconciliation.js';

const PAGE = 1000;
// The age control walks every old credential: larger pages mean fewer round trips (PostgreSQL) for the same memory bound.
const AGE_PAGE = 5000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The tenant's access policies as the engine reads them, with names and times. */
export async function loadAccessPolicies(db: DbOrTx, tenantId: string) {
  return (await allPoliciesWithSubjects(db, tenantId)).map(({ row, subjects }) => policyFromRows(row, subjects));
}
type LoadedPolicy = Awaited<ReturnType<typeof loadAccessPolicies>>[number];

/**
 * Credentials whose current secret (its version's time) is older than the maximum age of the credential policy
 * that applies to them, or that are still at their first secret after NEVER_ROTATED_DAYS. Only candidates older
 * than the smallest maximum age are read, in id (creation) order in pages, and matched with the vault's own matching rule.
 */
export async function credentialAgeControl(db: DbOrTx, tenantId: string, now: number): Promise<ControlResult> {
  const policies = (await listCredentialPolicies(db, tenantId)).map((row) => ({
    id: row.id, name: row.name, priority: row.priority, createdAt: Number(row.created_at),
    filters: JSON.parse(row.filters) as PolicyFilters, rules: { ...DEFAULT_POLICY_RULES, ...(JSON.parse(row.rules) as Partial<PolicyRules>) },
  }));
  const ages = policies.map((p) => p.rules.maxAgeDays).filter((days) => days > 0);
  const usesTags = policies.some((p) => p.filters.deviceTags || p.filters.credentialTags);
  const firstBefore = now - NEVER_ROTATED_DAYS * DAY_MS;
  // No policy sets an age: only never-rotated secrets can offend, and the time bound alone settles them.
  const agedBefore = ages.length > 0 ? now - Math.min(...ages) * DAY_MS : Number.NEGATIVE_INFINITY;
  const cut = { agedBefore: Number.isFinite(agedBefore) ? agedBefore : 0, firstBefore };
  const listed: Offender[] = [];
  let total = 0;
  let after: string | null = null;
  for (;;) {
    const page = await store.agedCredentials(db, tenantId, cut, after, AGE_PAGE);
    if (page.length === 0) break;
    // Tags are read (by the access feature's target loader) only when some policy filters on them.
    const tagged = usesTags && ages.length > 0 ? await targetsOf(db, tenantId, page.map((c) => c.id)) : null;
    for (const credential of page) {
      const age = daysBetween(credential.secretChangedAt, now);
      const target = tagged ? tagged.get(credential.id) : { device: { name: credential.deviceName, site: credential.deviceSite, type: credential.deviceType, tags: [] }, credential: { type: credential.type, username: credential.username, tags: [] } };
      const policy = target && ages.length > 0 ? applicablePolicy(policies, target) : null;
      const maxAge = policy?.rules.maxAgeDays ?? 0;
      let detail: string | null = null;
      if (maxAge > 0 && age > maxAge) detail = `secret set ${iso(credential.secretChangedAt)} (${age} days ago); credential policy "${policy!.name}" allows ${maxAge} days`;
      else if (credential.version === 1 && credential.secretChangedAt < firstBefore) detail = `never rotated: first secret set ${iso(credential.secretChangedAt)} (${age} days ago)`;
      if (detail === null) continue;
      total += 1;
      if (listed.length < OFFENDER_LIMIT) listed.push({ type: 'credential', id: credential.id, label: `${credential.username}@${credential.deviceName}`, detail });
    }
    after = page[page.length - 1]!.id;
    if (page.length < AGE_PAGE) break;
  }
  const population = await store.countCredentialsWithSecret(db, tenantId);
  return ratioControl({
    id: 'credential-age', title: 'Credentials past maximum age or never rotated',
    summary: `${total} of ${population} credentials with a secret are past their policy's maximum age or were never rotated in ${NEVER_ROTATED_DAYS} days.`,
    remediation: 'Rotate each listed credential (POST /api/v1/credentials/{id}/rotate, or set a new secret); give credential policies a maxAgeDays where rotation works.',
  }, { total, listed }, population);
}

/**
 * Credentials whose stored secret no longer logs in to their target (the rotation heartbeat's verdict): the vault
 * cannot give a working secret for them until they are reset.
 */
export async function outOfSyncControl(db: DbOrTx, tenantId: string, now: number): Promise<ControlResult> {
  const found = await store.outOfSyncCredentials(db, tenantId, OFFENDER_LIMIT);
  const listed: Offender[] = found.rows.map((r) => {
    const resetsItself = reconciliationOf(r) !== null;
    return {
      type: 'credential', id: r.id, label: `${r.username}@${r.device_name}`,
      detail: `stored secret refused since ${iso(r.changed_at)} (${daysBetween(r.changed_at, now)} days); ${resetsItself ? 'a reset with its reconciliation credential is due or failed' : 'no reconciliation credential set'}`,
    };
  });
  const population = await store.countCredentialsWithSecret(db, tenantId);
  return ratioControl({
    id: 'credentials-out-of-sync', title: 'Credentials out of sync with their target',
    summary: `${found.total} of ${population} credentials with a secret hold one their target refuses.`,
    remediation: 'Reset each listed account: POST /api/v1/credentials/{id}/reconcile (with additionalInfo.reconcileCredentialId set), or reset it on the target and store the new secret (POST /api/v1/credentials/{id}/secret).',
  }, { total: found.total, listed }, population);
}

// The engine decides for members only: each policy is asked for one probe member, its username mask read as any username.
const PROBE: Subject = { userId: '\u0000compliance-probe', username: '', groupIds: [] };
const anyUsername = (policy: AccessPolicy): AccessPolicy => ({
  ...policy,
  members: { users: [PROBE.userId], groups: [] },
  filters: { ...policy.filters, ...(policy.filters.credentialUsernames ? { credentialUsernames: policy.filters.credentialUsernames.map((p) => p.split(USERNAME_MASK).join('*')) } : {}) },
});

/**
 * Enabled access policies whose reveal rule does not ask for approval and whose filters cover at least one
 * credential on a high-criticality device: decided by the access engine itself over those credentials
 * (the {user.username} mask counts as any username, so a policy is flagged if it could reach one for some member).
 */
export async function approvalControl(db: DbOrTx, tenantId: string, policies: readonly LoadedPolicy[], now: number): Promise<ControlResult> {
  const granting = policies.filter((p) => p.enabled && p.actions.reveal);
  const open = granting.filter((p) => p.actions.reveal!.mode !== 'approval');
  // Policies with equal filters cover the same credentials: the engine is asked once per distinct filter set.
  const groups = new Map<string, { probe: CompiledPolicy; policies: LoadedPolicy[] }>();
  for (const policy of open) {
    const probe = anyUsername(policy);
    const key = JSON.stringify(probe.filters);
    const group = groups.get(key) ?? groups.set(key, { probe: compilePolicy({ ...probe, id: String(groups.size) }), policies: [] }).get(key)!;
    group.policies.push(policy);
  }
  const byProbe = new Map([...groups.values()].map((g) => [g.probe.id, g]));
  const found = new Map<string, Offender>();
  const covered = new Set<string>();
  const usesTags = open.some((p) => p.filters.deviceTags?.length || p.filters.credentialTags?.length);
  const critical = open.length > 0 ? await store.highCriticalityCredentials(db, tenantId) : [];
  for (let i = 0; i < critical.length && covered.size < groups.size; i += PAGE) {
    const chunk = critical.slice(i, i + PAGE);
    // Tags are read (by the access feature's target loader) only when some open policy filters on them.
    const tagged = usesTags ? await targetsOf(db, tenantId, chunk.map((c) => c.id)) : null;
    // One decision per credential over every filter set not yet matched: the engine normalises the target once.
    const pending = [...byProbe.values()].filter((g) => !covered.has(g.probe.id)).map((g) => g.probe);
    for (const credential of chunk) {
      const target = tagged ? tagged.get(credential.id) : { device: { name: credential.device_name, site: credential.device_site, type: credential.device_type, tags: [] }, credential: { username: credential.username, type: credential.type, tags: [] } };
      const decision = target ? decide(pending, PROBE, target, 'reveal', now) : null;
      for (const probeId of decision?.matchedPolicyIds ?? []) {
        if (covered.has(probeId)) continue;
        covered.add(probeId);
        for (const policy of byProbe.get(probeId)!.policies) {
          found.set(policy.id, { type: 'access_policy', id: policy.id, label: policy.name, detail: `reveal mode ${policy.actions.reveal!.mode} covers ${credential.username}@${credential.device_name} (high criticality) without approval` });
        }
      }
    }
  }
  const offenders = open.flatMap((policy) => (found.has(policy.id) ? [found.get(policy.id)!] : []));
  return ratioControl({
    id: 'policies-without-approval', title: 'Access policies on high-criticality devices without approval',
    summary: `${offenders.length} of ${granting.length} enabled policies granting reveal cover high-criticality devices without asking for approval.`,
    remediation: 'Set the reveal rule of each listed policy to mode "approval" with approvers (PATCH /api/v1/access-policies/{id}), or narrow its filters so it no longer covers high-criticality devices.',
  }, { total: offenders.length, listed: offenders }, granting.length);
}

/** Enabled access policies neither reviewed nor changed in REVIEW_INTERVAL_DAYS (a change counts as a review at its time). */
export async function reviewControl(db: DbOrTx, tenantId: string, policies: readonly LoadedPolicy[], now: number): Promise<ControlResult> {
  const reviews = await store.latestReviews(db, tenantId);
  const enabled = policies.filter((p) => p.enabled);
  const cutoff = now - REVIEW_INTERVAL_DAYS * DAY_MS;
  const stale = enabled
    .map((p) => ({ policy: p, reviewedAt: Math.max(p.updatedAt, reviews.get(p.id) ?? 0), reviewed: reviews.has(p.id) }))
    .filter((s) => s.reviewedAt < cutoff)
    .sort((a, b) => a.reviewedAt - b.reviewedAt);
  const listed: Offender[] = stale.slice(0, OFFENDER_LIMIT).map((s) => ({
    type: 'access_policy', id: s.policy.id, label: s.policy.name,
    detail: `last ${s.reviewed && s.reviewedAt > s.policy.updatedAt ? 'reviewed' : 'changed'} ${iso(s.reviewedAt)} (${daysBetween(s.reviewedAt, now)} days ago)`,
  }));
  return ratioControl({
    id: 'policies-not-reviewed', title: `Access policies not reviewed in ${REVIEW_INTERVAL_DAYS} days`,
    summary: `${stale.length} of ${enabled.length} enabled access policies were neither reviewed nor changed in ${REVIEW_INTERVAL_DAYS} days.`,
    remediation: 'Check what each listed policy grants and record the review: POST /api/v1/access-policies/{id}/review {"comment":"..."}; change or disable it if it is no longer right.',
  }, { total: stale.length, listed }, enabled.length);
}
