import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { AccessRequestTable, StoredStage } from '../../platform/db/schema.access.js';
import { conflict, DomainError, forbidden, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { AccessAction, Decision } from './access-engine.js';
import type { CreateAccessRequestInput, ListAccessRequestsQuery } from './access-requests.schemas.js';
import { everyApprover, PENDING_MS, unmeetable, windowProblem } from './access-requests.rules.js';
import * as store from './access-requests.store.js';
import { requestNotFound, toView, toViews, iso, requestLink } from './access-requests.views.js';

/** What access requests send people (features/notifications' notify, kept structural so this feature imports no other). */
export type Notify = (trx: DbOrTx, tenantId: string, message: { kind: string; subject: string; text: string; link?: { type: string; id: string }; userIds?: string[]; focalPointTopics?: 'security-incident'[] }) => Promise<void>;

/** What access requests ask of the rest of Custos. */
export interface RequestDeps {
  db: Db;
  audit: AuditLog;
  clock: Clock;
  notify: Notify;
  decisionFor(actor: Actor, credentialId: string, action: AccessAction): Promise<Decision>;
  can(actor: Actor, permission: string): boolean | Promise<boolean>;
}

/** A stage as one audit line: "level 1: 2 of u1 u2; 1 of u3". */
const stageLine = (s: StoredStage) => `level ${s.level}: ${s.constraints.map((c) => `${c.required} of ${c.approverIds.join(' ') || 'nobody'}`).join('; ')}`;

/**
 * Access requests: asking, listing and cancelling. A request is only made where an approval policy governs the
 * action; its stages and the people who may decide them are fixed when it is made. Emergency access is
 * approved at once, where every matching policy allows it, and everyone who could have approved hears of it.
 */
export function createAccessRequestService(deps: RequestDeps) {
  const { db, audit, clock, notify } = deps;

  /** The approval requirements of the caller's decision, or the refusal they are owed. */
  async function requirementsFor(actor: Actor, credentialId: string, action: AccessAction) {
    let decision: Decision;
    try {
      decision = await deps.decisionFor(actor, credentialId, action);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'CREDENTIAL_NOT_FOUND') throw notFound('CREDENTIAL_NOT_FOUND', `No credential ${credentialId} in this tenant.`);
      throw error;
    }
    if (!decision.granted) {
      if (decision.visible || (await deps.can(actor, 'vault.credentials.read'))) throw forbidden('ACCESS_NOT_GRANTED', `No access policy grants you ${action} of credential ${credentialId}, so there is nothing to request. Ask a vault administrator for an access policy.`);
      throw notFound('CREDENTIAL_NOT_FOUND', `No credential ${credentialId} in this tenant.`);
    }
    if (decision.mode !== 'approval' || !decision.requirements.approval) {
      throw conflict('ACCESS_REQUEST_NOT_NEEDED', `The access policies grant ${action} of credential ${credentialId} in mode ${decision.mode}: no approval is needed, use it directly${decision.mode === 'justification' ? ' with a justification' : ''}.`);
    }
    return { approval: decision.requirements.approval, emergencyAllowed: decision.requirements.emergencyAllowed, policyIds: decision.matchedPolicyIds };
  }

  /** The stages with the active people (never the requester) who may approve each constraint. */
  async function resolveStages(trx: DbOrTx, tenantId: string, requesterId: string, levels: NonNullable<Awaited<ReturnType<typeof requirementsFor>>['approval']>['levels']): Promise<StoredStage[]> {
    const stages: StoredStage[] = [];
    for (const stage of levels) {
      const constraints = [];
      for (const c of stage.constraints) constraints.push({ required: c.required, approverIds: await store.activePeople(trx, tenantId, c.approvers.users, c.approvers.groups, requesterId), policyIds: c.policyIds });
      stages.push({ level: stage.level, constraints });
    }
    return stages;
  }

  /** Asks for the use of a credential (or, with emergency, takes it at once where the policies allow break-glass access). */
  async function create(actor: Actor, input: CreateAccessRequestInput) {
    if (actor.kind !== 'user') throw forbidden('ACCESS_NOT_GRANTED', 'Access requests are made by users; an API client uses explicit credential grants.');
    const tenantId = actor.tenantId!;
    const { approval, emergencyAllowed, policyIds } = await requirementsFor(actor, input.credentialId, input.action);
    if (input.emergency && !emergencyAllowed) {
      throw forbidden('EMERGENCY_ACCESS_NOT_ALLOWED', `The access policies that govern credential ${input.credentialId} do not allow emergency access (each must set emergencyAllowed); make a normal request and wait for its approval.`);
    }
    const now = clock.now();
    const problem = windowProblem(now, input.from, input.to, approval.validMinutes);
    if (problem) throw invalid('ACCESS_WINDOW_INVALID', problem);
    const id = newId(now);
    const row = await db.transaction().execute(async (trx) => {
      const pending = input.emergency ? undefined : await store.findPending(trx, tenantId, actor.id, input.credentialId, input.action);
      if (pending) throw conflict('ACCESS_REQUEST_PENDING', `You already asked for ${input.action} of credential ${input.credentialId} (access request ${pending.id}, still pending); wait for it or cancel it with POST /api/v1/access-requests/${pending.id}/cancel.`);
      const stages = await resolveStages(trx, tenantId, actor.id, approval.levels);
      const short = unmeetable(stages);
      if (short && !input.emergency) {
        throw conflict('APPROVERS_UNAVAILABLE', `Approval level ${short.level} needs ${short.required} approval(s), but only ${short.available} active user(s) other than you may give them. Ask a vault administrator to name more approvers in the access policy.`);
      }
      const validFrom = now;
      const validUntil = input.to ?? now + approval.validMinutes * 60_000;
      const row: AccessRequestTable = {
        tenant_id: tenantId, id, requester_id: actor.id, credential_id: input.credentialId, action: input.action, justification: input.justification,
        status: input.emergency ? 'approved' : 'pending', emergency: input.emergency ? 1 : 0, stage: 1, requirements: JSON.stringify(stages), policy_ids: JSON.stringify(policyIds),
        valid_minutes: approval.validMinutes, requested_from: input.from ?? null, requested_to: input.to ?? null,
        expires_at: input.emergency ? validUntil : Math.min(now + PENDING_MS, input.to ?? Infinity),
        valid_from: input.emergency ? validFrom : null, valid_until: input.emergency ? validUntil : null,
        decided_at: input.emergency ? now : null, decided_by: null, created_at: now, updated_at: now,
      };
      await store.insertRequest(trx, row, stages.flatMap((s) => [...new Set(s.constraints.flatMap((c) => c.approverIds))].map((userId) => ({ level: s.level, userId }))));
      const target = { type: 'access_request', id };
      const details = { credentialId: row.credential_id, action: row.action, justification: row.justification, requestedFrom: input.from ? iso(input.from) : null, requestedTo: input.to ? iso(input.to) : null, stages: stages.map(stageLine), policyIds };
      if (input.emergency) {
        await audit.append(trx, tenantId, { action: 'access_request.emergency', actor, target, details: { ...details, validUntil: iso(validUntil) } });
        await notify(trx, tenantId, {
          kind: 'access_request.emergency', link: requestLink(id), userIds: everyApprover(stages), focalPointTopics: ['security-incident'],
          subject: `Emergency access to credential ${row.credential_id}`,
          text: `User ${actor.id} invoked emergency access to credential ${row.credential_id} (${row.action}) until ${iso(validUntil)}, skipping approval. Justification: ${row.justification}. Review it in the audit log (access request ${id}).`,
        });
      } else {
        await audit.append(trx, tenantId, { action: 'access_request.created', actor, target, details });
        await notify(trx, tenantId, {
          kind: 'access_request.created', link: requestLink(id), userIds: [...new Set(stages[0]!.constraints.flatMap((c) => c.approverIds))],
          subject: `Access request waiting for your approval`,
          text: `User ${actor.id} asks for ${row.action} of credential ${row.credential_id}. Justification: ${row.justification}. Approve or deny it: POST /api/v1/access-requests/${id}/approve or /deny (your inbox: GET /api/v1/access-requests?role=approver).`,
        });
      }
      return row;
    });
    return { request: await toView(db, row) };
  }

  /** Whether the caller is a party to the request (its requester or one of its approvers) or may read every request. */
  async function mayRead(trx: DbOrTx, actor: Actor, row: AccessRequestTable): Promise<boolean> {
    if (row.requester_id === actor.id) return true;
    if ((await store.approverLevels(trx, row.tenant_id, row.id, actor.id)).length > 0) return true;
    return Boolean(await deps.can(actor, 'access.requests.read'));
  }

  /** One request, to its parties and to those who may read every request; 404 to anyone else. */
  async function get(actor: Actor, id: string) {
    const row = isId(id) ? await store.findRequest(db, actor.tenantId!, id) : undefined;
    if (!row || !(await mayRead(db, actor, row))) throw requestNotFound(id);
    return { request: await toView(db, row) };
  }

  /** Your requests, the ones waiting for your decision, or every request (access.requests.read). */
  async function list(actor: Actor, query: ListAccessRequestsQuery) {
    if (query.role === 'all' && !(await deps.can(actor, 'access.requests.read'))) {
      throw forbidden('PERMISSION_DENIED', 'Listing every access request needs the access.requests.read permission; role=requester lists yours and role=approver those waiting for you.');
    }
    const tenantId = actor.tenantId!;
    const rows = await store.listRequests(db, tenantId, {
      requesterId: query.role === 'requester' ? actor.id : undefined, approverId: query.role === 'approver' ? actor.id : undefined,
      status: query.status, credentialId: query.credentialId, cursor: query.cursor, limit: query.limit, now: clock.now(),
    });
    const page = rows.slice(0, query.limit);
    return { requests: await toViews(db, tenantId, page), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }

  /** The requester withdraws a pending request or ends an approved window early. */
  async function cancel(actor: Actor, id: string) {
    const tenantId = actor.tenantId!;
    const row = await db.transaction().execute(async (trx) => {
      const row = isId(id) ? await store.findRequest(trx, tenantId, id) : undefined;
      if (!row || !(await mayRead(trx, actor, row))) throw requestNotFound(id);
      if (row.requester_id !== actor.id) throw forbidden('NOT_YOUR_REQUEST', `Only the requester cancels access request ${id}; an approver denies it instead (POST /api/v1/access-requests/${id}/deny).`);
      if (row.status !== 'pending' && row.status !== 'approved') throw conflict('ACCESS_REQUEST_CLOSED', `Access request ${id} is already ${row.status}.`);
      const now = clock.now();
      const changes = { status: 'cancelled' as const, updated_at: now, ...(row.status === 'approved' ? { valid_until: Math.min(now, Number(row.valid_until)) } : {}) };
      if (!(await store.updateRequest(trx, tenantId, id, row.status, changes))) throw conflict('ACCESS_REQUEST_CHANGED', `Access request ${id} changed meanwhile; read it again (GET /api/v1/access-requests/${id}).`);
      await audit.append(trx, tenantId, { action: 'access_request.cancelled', actor, target: { type: 'access_request', id }, details: { credentialId: row.credential_id, was: row.status, reason: 'requester' } });
      return { ...row, ...changes };
    });
    return { request: await toView(db, row) };
  }

  return { create, get, list, cancel, mayRead };
}
export type AccessRequestService = ReturnType<typeof createAccessRequestService>;
