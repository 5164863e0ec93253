import type { DbOrTx } from '../../platform/db/database.js';
import type { FocalPointTable } from '../../platform/db/schema.js';

/** Inserts a focal point. */
export async function insertFocalPoint(db: DbOrTx, row: FocalPointTable): Promise<void> {
  await db.insertInto('focal_points').values(row).execute();
}

/** A tenant's focal point by id. */
export async function findFocalPoint(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('focal_points').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** A tenant's focal points in creation order, optionally only those reached about one topic. */
export async function listFocalPoints(db: DbOrTx, tenantId: string, filter: { topic?: string }) {
  let query = db.selectFrom('focal_points').selectAll().where('tenant_id', '=', tenantId);
  // Topics are names from a fixed enum (letters and dashes), so the quoted name matches one array element exactly.
  if (filter.topic) query = query.where('topics', 'like', `%${JSON.stringify(filter.topic)}%`);
  return query.orderBy('created_at').orderBy('id').execute();
}

/** How many focal points the tenant has. */
export async function countFocalPoints(db: DbOrTx, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('focal_points')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Changes a focal point's fields. */
export async function updateFocalPoint(db: DbOrTx, tenantId: string, id: string, changes: Partial<Pick<FocalPointTable, 'name' | 'email' | 'phone' | 'topics'>>, now: number): Promise<void> {
  await db.updateTable('focal_points').set({ ...changes, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Removes a focal point. */
export async function deleteFocalPoint(db: DbOrTx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('focal_points').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}
