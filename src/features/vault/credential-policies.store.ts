import type { DbOrTx } from '../../platform/db/database.js';
import type { CredentialPolicyTable } from '../../platform/db/schema.js';

/** Inserts a credential policy. */
export async function insertPolicy(db: DbOrTx, row: CredentialPolicyTable): Promise<void> {
  await db.insertInto('credential_policies').values(row).execute();
}

/** A tenant's policy by id. */
export async function findPolicy(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('credential_policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** Whether another of the tenant's policies already has this name. */
export async function nameTaken(db: DbOrTx, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
  let query = db.selectFrom('credential_policies').select('id').where('tenant_id', '=', tenantId).where('name', '=', name);
  if (exceptId) query = query.where('id', '<>', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** Every policy of the tenant in evaluation order: highest priority first, then the oldest. */
export async function listPolicies(db: DbOrTx, tenantId: string) {
  return db.selectFrom('credential_policies').selectAll().where('tenant_id', '=', tenantId).orderBy('priority', 'desc').orderBy('created_at').orderBy('id').execute();
}

/** How many policies the tenant has. */
export async function countPolicies(db: DbOrTx, tenantId: string): Promise<number> {
  const row = await db.selectFrom('credential_policies').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Changes a policy's fields. */
export async function updatePolicy(db: DbOrTx, tenantId: string, id: string, changes: Partial<Pick<CredentialPolicyTable, 'name' | 'priority' | 'filters' | 'rules'>>, now: number): Promise<void> {
  await db.updateTable('credential_policies').set({ ...changes, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Removes a policy. */
export async function deletePolicy(db: DbOrTx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('credential_policies').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}
