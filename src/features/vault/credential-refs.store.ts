import type { DbOrTx } from '../../platform/db/database.js';

/** The id of the tenant's credential for an account on a device, by the device's name. */
export async function findIdByAccount(db: DbOrTx, tenantId: string, username: string, deviceName: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('credentials as c')
    .innerJoin('devices as d', (j) => j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
    .select('c.id')
    .where('c.tenant_id', '=', tenantId)
    .where('d.name', '=', deviceName)
    .where('c.username', '=', username)
    .executeTakeFirst();
  return row?.id;
}

/** A credential's tags (sorted), or undefined when the tenant has no such credential: one read. */
export async function tagsOfCredential(db: DbOrTx, tenantId: string, id: string): Promise<string[] | undefined> {
  const rows = await db
    .selectFrom('credentials as c')
    .leftJoin('credential_tags as g', (j) => j.onRef('g.tenant_id', '=', 'c.tenant_id').onRef('g.credential_id', '=', 'c.id'))
    .select('g.tag')
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', '=', id)
    .orderBy('g.tag')
    .execute();
  if (rows.length === 0) return undefined;
  return rows.flatMap((row) => (row.tag === null ? [] : [row.tag]));
}

/** Which of these ids name a credential of the tenant. */
export async function existingIds(db: DbOrTx, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('credentials').select('id').where('tenant_id', '=', tenantId).where('id', 'in', [...ids]).execute();
  return new Set(rows.map((row) => row.id));
}
