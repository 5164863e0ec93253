import type { Actor } from '../../platform/actor.js';
import type { DbOrTx } from '../../platform/db/database.js';
import type { AccessRequestTable } from '../../platform/db/schema.access.js';
import { conflict, forbidden } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import { approvalWindow, stageSatisfied } from './access-requests.rules.js';
import type { RequestDeps } from './access-requests.service.js';
import * as store from './access-requests.store.js';
import { requestNotFound, stagesOf, toView, iso, requestLink } from './access-requests.views.js';


/**
 * Approving and denying, stage by stage. Each decision takes the request's row lock first, so two approvers of
 * one stage are counted one after the other; a stage is done when each of its constraints has its count; the last
 * stage opens the approval window. One deny closes the request. Nobody decides their own request, or twice.
 */
export function createApprovalService(deps: Pick<RequestDeps, 'db' | 'audit' | 'clock' | 'notify' | 'can'>) {
  const { db, audit, clock, notify } = deps;

  /** The pending request the caller may decide now, or the refusal they are owed (read under the row lock). */
  async function decidable(trx: DbOrTx, actor: Actor, id: string, now: number): Promise<AccessRequestTable> {
    const tenantId = actor.tenantId!;
    if (!isId(id)) throw requestNotFound(id);
    await store.lockRequest(trx, tenantId, id, now);
    const row = await store.findRequest(trx, tenantId, id);
    if (!row) throw requestNotFound(id);
    const levels = await store.approverLevels(trx, tenantId, id, actor.id);
    if (row.requester_id === actor.id) throw forbidden('APPROVAL_OWN_REQUEST', `Access request ${id} is yours: someone else approves or denies it (you may cancel it).`);
    if (levels.length === 0) {
      if (await deps.can(actor, 'access.requests.read')) throw forbidden('NOT_AN_APPROVER', `You are not an approver of access request ${id}; its approvers are named by the access policies that govern the credential.`);
      throw requestNotFound(id);
    }
    if (row.status !== 'pending') throw conflict('ACCESS_REQUEST_CLOSED', `Access request ${id} is already ${row.status}; nothing is left to decide.`);
    if (Number(row.expires_at) <= now) throw conflict('ACCESS_REQUEST_EXPIRED', `Access request ${id} expired undecided at ${iso(Number(row.expires_at))}; the requester can make a new one.`);
    const decided = (await store.decisionsOf(trx, tenantId, [id])).some((d) => d.user_id === actor.id);
    if (decided) throw conflict('ALREADY_DECIDED', `You already decided access request ${id}; another approver decides the rest.`);
    if (!levels.includes(Number(row.stage))) throw conflict('NOT_YOUR_STAGE', `Access request ${id} waits for approval level ${row.stage}; you decide level ${levels.join(', ')}, later or earlier.`);
    return row;
  }

  /** Approves the request's current stage; the last stage makes it usable within its window. */
  async function approve(actor: Actor, id: string, comment: string | null) {
    const tenantId = actor.tenantId!;
    const row = await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row = await decidable(trx, actor, id, now);
      const level = Number(row.stage);
      await store.insertDecision(trx, { tenant_id: tenantId, request_id: id, user_id: actor.id, level, decision: 'approve', comment, created_at: now });
      const stages = stagesOf(row);
      const approvedBy = new Set((await store.decisionsOf(trx, tenantId, [id])).filter((d) => d.decision === 'approve' && Number(d.level) === level).map((d) => d.user_id));
      const target = { type: 'access_request', id };
      if (!stageSatisfied(stages[level - 1]!, approvedBy)) {
        await audit.append(trx, tenantId, { action: 'access_request.approved', actor, target, details: { level, comment, stageComplete: false, approved: false } });
        return row;
      }
      if (level < stages.length) {
        await store.updateRequest(trx, tenantId, id, 'pending', { stage: level + 1, updated_at: now });
        await audit.append(trx, tenantId, { action: 'access_request.approved', actor, target, details: { level, comment, stageComplete: true, approved: false } });
        await notify(trx, tenantId, {
          kind: 'access_request.created', link: requestLink(id), userIds: await store.approversAt(trx, tenantId, id, level + 1),
          subject: 'Access request waiting for your approval',
          text: `Access request ${id} (user ${row.requester_id}, ${row.action} of credential ${row.credential_id}) passed approval level ${level} and waits for level ${level + 1}. Justification: ${row.justification}.`,
        });
        return { ...row, stage: level + 1 };
      }
      const window = approvalWindow(now, row.requested_from === null ? null : Number(row.requested_from), row.requested_to === null ? null : Number(row.requested_to), Number(row.valid_minutes));
      const changes = { status: 'approved' as const, valid_from: window.validFrom, valid_until: window.validUntil, expires_at: window.validUntil, decided_at: now, decided_by: actor.id, updated_at: now };
      await store.updateRequest(trx, tenantId, id, 'pending', changes);
      await audit.append(trx, tenantId, { action: 'access_request.approved', actor, target, details: { level, comment, stageComplete: true, approved: true, validFrom: iso(window.validFrom), validUntil: iso(window.validUntil) } });
      await notify(trx, tenantId, {
        kind: 'access_request.approved', link: requestLink(id), userIds: [row.requester_id],
        subject: 'Your access request was approved',
        text: `Access request ${id} for ${row.action} of credential ${row.credential_id} is approved from ${iso(window.validFrom)} until ${iso(window.validUntil)}. Send requestId ${id} with the reveal.`,
      });
      return { ...row, ...changes };
    });
    return { request: await toView(db, row) };
  }

  /** Denies the request with a reason; it is closed. */
  async function deny(actor: Actor, id: string, comment: string) {
    const tenantId = actor.tenantId!;
    const row = await db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row = await decidable(trx, actor, id, now);
      const level = Number(row.stage);
      await store.insertDecision(trx, { tenant_id: tenantId, request_id: id, user_id: actor.id, level, decision: 'deny', comment, created_at: now });
      const changes = { status: 'denied' as const, decided_at: now, decided_by: actor.id, updated_at: now };
      await store.updateRequest(trx, tenantId, id, 'pending', changes);
      await audit.append(trx, tenantId, { action: 'access_request.denied', actor, target: { type: 'access_request', id }, details: { level, comment } });
      await notify(trx, tenantId, {
        kind: 'access_request.denied', link: requestLink(id), userIds: [row.requester_id],
        subject: 'Your access request was denied',
        text: `Access request ${id} for ${row.action} of credential ${row.credential_id} was denied at approval level ${level}. Comment: ${comment}`,
      });
      return { ...row, ...changes };
    });
    return { request: await toView(db, row) };
  }

  return { approve, deny };
}
export type ApprovalService = ReturnType<typeof createApprovalService>;
