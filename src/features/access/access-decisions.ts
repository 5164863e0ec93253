import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import { notFound } from '../../platform/errors.js';
import { createResolutionCache } from '../../platform/db/marker-cache.js';
import { isId } from '../../platform/ids.js';
import { candidatesFor, decide, type AccessAction, type Decision, type Subject } from './access-engine.js';
import type { PolicyCache } from './access-policy-cache.js';
import type { EvaluateQuery } from './access-policies.schemas.js';
import * as lookups from './access-lookups.store.js';

const credentialNotFound = (id: string) => notFound('CREDENTIAL_NOT_FOUND', `No credential ${id} in this tenant.`);

/**
 * Decisions on the reveal hot path: the tenant's compiled policies come from the cache (one revision read),
 * the caller's candidates from the member index: two indexed reads in all, the subject with the tenant's policy
 * revision, and the target with its tags.
 */
export function createAccessDecisions(deps: { db: Db; clock: Clock; cache: PolicyCache; changeMarker: () => string | null }) {
  const { db, clock, cache } = deps;
  // On SQLite both reads are skipped while nothing but the audit log changed (see Database.changeMarker).
  const targets = createResolutionCache<Awaited<ReturnType<typeof lookups.targetOf>>>({ changeMarker: deps.changeMarker });
  const subjects = createResolutionCache<Awaited<ReturnType<typeof lookups.subjectOf>>>({ changeMarker: deps.changeMarker });
  const exists = (value: unknown) => value !== undefined;
  const subjectOf = (tenantId: string, userId: string) => subjects.resolve(`${tenantId}:${userId}`, () => lookups.subjectOf(db, tenantId, userId), exists);

  async function loadTarget(tenantId: string, credentialId: string) {
    const target = isId(credentialId) ? await targets.resolve(`${tenantId}:${credentialId}`, () => lookups.targetOf(db, tenantId, credentialId), exists) : undefined;
    if (!target) throw credentialNotFound(credentialId);
    return target;
  }

  async function decideFor(tenantId: string, found: { subject: Subject; policyRevision: number } | undefined, target: Awaited<ReturnType<typeof loadTarget>>, action: AccessAction) {
    const policies = await cache.policiesOf(tenantId, found?.policyRevision);
    const subject = found?.subject;
    const decision: Decision = subject
      ? decide(candidatesFor(policies.index, subject), subject, target, action, clock.now())
      : { granted: false, reason: 'NO_MATCHING_POLICY', visible: false, matchedPolicyIds: [] };
    return { decision, names: policies.names };
  }

  /**
   * The decision for the calling user on one credential (for reveal, session and history code). Policies name
   * users and groups only, so an API client or any other non-user caller is granted nothing by them. An unknown
   * credential (or another tenant's) answers 404 CREDENTIAL_NOT_FOUND; the caller answers the same for a
   * decision that is not visible, unless an administrator asks.
   */
  async function decisionFor(actor: Actor, credentialId: string, action: AccessAction): Promise<Decision> {
    const tenantId = actor.tenantId!;
    const target = await loadTarget(tenantId, credentialId);
    const subject = actor.kind === 'user' ? await subjectOf(tenantId, actor.id) : undefined;
    return (await decideFor(tenantId, subject, target, action)).decision;
  }

  /** The administrator's preview: what a user would be answered for one credential and action right now, and why. */
  async function evaluate(actor: Actor, query: EvaluateQuery) {
    const tenantId = actor.tenantId!;
    const found = isId(query.userId) ? await lookups.subjectOf(db, tenantId, query.userId) : undefined;
    if (!found) throw notFound('USER_NOT_FOUND', `No user ${query.userId} in this tenant.`);
    const target = await loadTarget(tenantId, query.credentialId);
    const { decision, names } = await decideFor(tenantId, found, target, query.action);
    return {
      decision,
      policies: decision.matchedPolicyIds.map((id) => ({ id, name: names.get(id) ?? id })),
      subject: found.subject,
      target,
      evaluatedAt: new Date(clock.now()).toISOString(),
    };
  }

  return { decisionFor, evaluate };
}
export type AccessDecisions = ReturnType<typeof createAccessDecisions>;
