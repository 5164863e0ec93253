import type { DbOrTx } from '../../platform/db/database.js';
import type { AccessRequestTable } from '../../platform/db/schema.access.js';

/** Inserts a request and the people who may decide each of its stages. */
export async function insertRequest(db: DbOrTx, row: AccessRequestTable, approvers: { level: number; userId: string }[]): Promise<void> {
  await db.insertInto('access_requests').values(row).execute();
  if (approvers.length > 0) {
    await db.insertInto('access_request_approvers').values(approvers.map((a) => ({ tenant_id: row.tenant_id, request_id: row.id, level: a.level, user_id: a.userId }))).execute();
  }
}

/** A tenant's request by id. */
export async function findRequest(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('access_requests').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/**
 * Touches the request's row first in a decision's transaction: on PostgreSQL the row lock makes two approvers
 * of one stage decide one after the other, so the second counts the first's approval (SQLite serialises writers).
 */
export async function lockRequest(db: DbOrTx, tenantId: string, id: string, now: number): Promise<void> {
  await db.updateTable('access_requests').set({ updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Changes a request's state; only while it still has the status the caller read, so a closed request stays closed. */
export async function updateRequest(db: DbOrTx, tenantId: string, id: string, from: AccessRequestTable['status'], changes: Partial<AccessRequestTable>): Promise<boolean> {
  const result = await db.updateTable('access_requests').set(changes).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', from).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The levels at which a user may decide a request (empty: not an approver of it). */
export async function approverLevels(db: DbOrTx, tenantId: string, requestId: string, userId: string): Promise<number[]> {
  const rows = await db.selectFrom('access_request_approvers').select('level').where('tenant_id', '=', tenantId).where('request_id', '=', requestId).where('user_id', '=', userId).execute();
  return rows.map((r) => Number(r.level));
}

/** The people who may decide one stage of a request. */
export async function approversAt(db: DbOrTx, tenantId: string, requestId: string, level: number): Promise<string[]> {
  const rows = await db.selectFrom('access_request_approvers').select('user_id').where('tenant_id', '=', tenantId).where('request_id', '=', requestId).where('level', '=', level).execute();
  return rows.map((r) => r.user_id);
}

/** Records one person's decision. */
export async function insertDecision(db: DbOrTx, row: { tenant_id: string; request_id: string; user_id: string; level: number; decision: 'approve' | 'deny'; comment: string | null; created_at: number }): Promise<void> {
  await db.insertInto('access_request_decisions').values(row).execute();
}

/** Every decision on the given requests, oldest first. */
export async function decisionsOf(db: DbOrTx, tenantId: string, requestIds: readonly string[]) {
  if (requestIds.length === 0) return [];
  return db.selectFrom('access_request_decisions').selectAll().where('tenant_id', '=', tenantId).where('request_id', 'in', requestIds).orderBy('created_at').orderBy('user_id').execute();
}

/** The caller's open (pending) request for the same credential and action, if any. */
export async function findPending(db: DbOrTx, tenantId: string, userId: string, credentialId: string, action: AccessRequestTable['action']) {
  return db.selectFrom('access_requests').select('id').where('tenant_id', '=', tenantId).where('requester_id', '=', userId).where('credential_id', '=', credentialId).where('action', '=', action).where('status', '=', 'pending').executeTakeFirst();
}

/** The user's most recent request for a credential and action that was approved (still, or until it expired). */
export async function latestApproval(db: DbOrTx, tenantId: string, userId: string, credentialId: string, action: AccessRequestTable['action']) {
  return db
    .selectFrom('access_requests')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('requester_id', '=', userId)
    .where('credential_id', '=', credentialId)
    .where('action', '=', action)
    .where((eb) => eb.or([eb('status', '=', 'approved'), eb.and([eb('status', '=', 'expired'), eb('valid_until', 'is not', null)])]))
    .orderBy('valid_until', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Active users among those named and the members of the groups named, without the one excluded (the requester). */
export async function activePeople(db: DbOrTx, tenantId: string, userIds: readonly string[], groupIds: readonly string[], exclude: string): Promise<string[]> {
  const named = new Set(userIds);
  if (groupIds.length > 0) {
    const rows = await db.selectFrom('group_members').select('user_id').where('tenant_id', '=', tenantId).where('group_id', 'in', groupIds).execute();
    for (const row of rows) named.add(row.user_id);
  }
  named.delete(exclude);
  if (named.size === 0) return [];
  const active = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', [...named]).where('status', '=', 'active').execute();
  return active.map((r) => r.id).sort();
}

/** A page of requests newest first (ids are time-ordered), for the requester, an approver's inbox, or everyone's. */
export async function listRequests(db: DbOrTx, tenantId: string, filter: { requesterId?: string; approverId?: string; status?: string; credentialId?: string; cursor?: string; limit: number; now: number }) {
  let query = db.selectFrom('access_requests as r').selectAll('r').where('r.tenant_id', '=', tenantId);
  if (filter.requesterId) query = query.where('r.requester_id', '=', filter.requesterId);
  if (filter.approverId) {
    const me = filter.approverId;
    // The inbox: pending, at a stage the caller may decide, not yet decided by them, not past its expiry.
    query = query
      .where('r.status', '=', 'pending')
      .where('r.expires_at', '>', filter.now)
      .where((eb) => eb.exists(eb.selectFrom('access_request_approvers as a').select('a.user_id').whereRef('a.tenant_id', '=', 'r.tenant_id').whereRef('a.request_id', '=', 'r.id').whereRef('a.level', '=', 'r.stage').where('a.user_id', '=', me)))
      .where((eb) => eb.not(eb.exists(eb.selectFrom('access_request_decisions as d').select('d.user_id').whereRef('d.tenant_id', '=', 'r.tenant_id').whereRef('d.request_id', '=', 'r.id').where('d.user_id', '=', me))));
  }
  if (filter.status) query = query.where('r.status', '=', filter.status as AccessRequestTable['status']);
  if (filter.credentialId) query = query.where('r.credential_id', '=', filter.credentialId);
  if (filter.cursor) query = query.where('r.id', '<', filter.cursor);
  return query.orderBy('r.id', 'desc').limit(filter.limit + 1).execute();
}

/** Requests whose pending time or approved window has run out (expires_at holds either), oldest first. */
export async function dueForExpiry(db: DbOrTx, now: number, limit: number) {
  return db.selectFrom('access_requests').selectAll().where('status', 'in', ['pending', 'approved']).where('expires_at', '<=', now).orderBy('expires_at').limit(limit).execute();
}

/** A user's requests still open or usable: what their deactivation cancels. */
export async function openRequestsOf(db: DbOrTx, tenantId: string, userId: string) {
  return db.selectFrom('access_requests').select(['id', 'status']).where('tenant_id', '=', tenantId).where('requester_id', '=', userId).where('status', 'in', ['pending', 'approved']).execute();
}
