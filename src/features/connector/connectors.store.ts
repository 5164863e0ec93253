import type { DbOrTx } from '../../platform/db/database.js';
import type { ConnectorTable } from '../../platform/db/schema.connectors.js';

/** Inserts a connector. */
export async function insertConnector(db: DbOrTx, row: ConnectorTable): Promise<void> {
  await db.insertInto('connectors').values(row).execute();
}

/** A tenant's connector by id. */
export async function findConnector(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('connectors').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** A connector by its token's hash, in whichever tenant holds it, with the tenant's status. */
export async function findConnectorByTokenHash(db: DbOrTx, tokenHash: string) {
  return db
    .selectFrom('connectors as c')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .selectAll('c')
    .select('t.status as tenant_status')
    .where('c.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Whether a live connection may stay: its connector is still there and not revoked, and its tenant is active. */
export async function mayStayConnected(db: DbOrTx, tenantId: string, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('connectors as c')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .select(['c.revoked_at', 't.status'])
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', '=', id)
    .executeTakeFirst();
  return row !== undefined && row.revoked_at === null && row.status === 'active';
}

/** A tenant's connectors in creation order, optionally of one site. */
export async function listConnectors(db: DbOrTx, tenantId: string, filter: { site?: string }) {
  let query = db.selectFrom('connectors').selectAll().where('tenant_id', '=', tenantId);
  if (filter.site) query = query.where('site', '=', filter.site);
  return query.orderBy('created_at').orderBy('id').execute();
}

/** Marks a connector revoked; answers whether it was live (not revoked before). */
export async function revokeConnector(db: DbOrTx, tenantId: string, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable('connectors').set({ revoked_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Records a connector's connection state: its start, end or a sign of life. */
export async function updatePresence(db: DbOrTx, tenantId: string, id: string, changes: Partial<Pick<ConnectorTable, 'connected_at' | 'disconnected_at' | 'last_seen_at' | 'last_address'>>): Promise<void> {
  await db.updateTable('connectors').set(changes).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Whether a tenant's connector exists and is not revoked (devices may only name such a one). */
export async function isUsable(db: DbOrTx, tenantId: string, id: string): Promise<'usable' | 'revoked' | 'missing'> {
  const row = await db.selectFrom('connectors').select('revoked_at').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  return !row ? 'missing' : row.revoked_at === null ? 'usable' : 'revoked';
}
