import type { DbOrTx } from '../../platform/db/database.js';
import type { RoleGrantTable } from '../../platform/db/schema.js';

/** Records a grant waiting for a second administrator. */
export async function insertRoleGrant(db: DbOrTx, row: RoleGrantTable): Promise<void> {
  await db.insertInto('role_grants').values(row).execute();
}

/** One grant by id. */
export async function findRoleGrant(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('role_grants').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** A page of grants, newest first, optionally of one status. */
export async function listRoleGrants(db: DbOrTx, tenantId: string, filter: { status?: RoleGrantTable['status']; before?: string; limit: number }) {
  let query = db.selectFrom('role_grants').selectAll().where('tenant_id', '=', tenantId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.before) query = query.where('id', '<', filter.before);
  return query.orderBy('id', 'desc').limit(filter.limit).execute();
}

/** Settles a pending grant; answers false when it was no longer pending (someone else decided first). */
export async function decideRoleGrant(db: DbOrTx, tenantId: string, id: string, decision: Pick<RoleGrantTable, 'status' | 'decided_by' | 'decided_at' | 'comment'>): Promise<boolean> {
  const result = await db.updateTable('role_grants').set(decision).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Cancels the pending grants about a subject that is going away. */
export async function cancelGrantsFor(db: DbOrTx, tenantId: string, subjectType: RoleGrantTable['subject_type'], subjectId: string, now: number): Promise<number> {
  const result = await db
    .updateTable('role_grants')
    .set({ status: 'cancelled', decided_at: now, comment: `${subjectType} removed` })
    .where('tenant_id', '=', tenantId)
    .where('subject_type', '=', subjectType)
    .where('subject_id', '=', subjectId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Cancels the pending grants a user requested or would receive (they are being deactivated). */
export async function cancelGrantsOfUser(db: DbOrTx, tenantId: string, userId: string, now: number): Promise<number> {
  const result = await db
    .updateTable('role_grants')
    .set({ status: 'cancelled', decided_at: now, comment: 'user deactivated' })
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('requested_by', '=', userId), eb.and([eb('subject_type', '=', 'user'), eb('subject_id', '=', userId)])]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
