import type { DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';
import { tenantOwnedTables, type TenantTable } from '../../platform/db/schema.js';

/** Inserts a tenant row. */
export async function insertTenant(db: DbOrTx, row: TenantTable): Promise<void> {
  await db.insertInto('tenants').values(row).execute();
}

/** A tenant by slug. */
export async function findTenantBySlug(db: DbOrTx, slug: string) {
  return (await tenantBySlug(db, slug))[0];
}
// Compiled once: every login looks its tenant up.
const tenantBySlug = prepareQuery(1, (db: DbOrTx, slug: string) => db.selectFrom('tenants').selectAll().where('slug', '=', slug));

/** A tenant by id. */
export async function findTenantById(db: DbOrTx, id: string) {
  return db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Every tenant, oldest first. */
export async function listTenants(db: DbOrTx) {
  return db.selectFrom('tenants').selectAll().orderBy('created_at').orderBy('id').execute();
}

/** Changes a tenant's status. */
export async function setTenantStatus(db: DbOrTx, id: string, status: TenantTable['status'], now: number): Promise<void> {
  await db.updateTable('tenants').set({ status, updated_at: now }).where('id', '=', id).execute();
}

/** Deletes every row the tenant owns, then the tenant itself. */
export async function deleteTenantData(db: DbOrTx, id: string): Promise<void> {
  for (const table of tenantOwnedTables) {
    await db.deleteFrom(table).where('tenant_id', '=', id).execute();
  }
  await db.deleteFrom('tenants').where('id', '=', id).execute();
}
