import { sql, type Expression, type SqlBool } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.js';
import type { CredentialTable, CredentialVersionTable } from '../../platform/db/schema.js';

/** The filters of a credential list; every one is an indexed equality except q. */
export interface CredentialFilter {
  q?: string;
  deviceId?: string;
  deviceName?: string;
  site?: string;
  deviceType?: string;
  deviceTags?: string[];
  username?: string;
  type?: string;
  tags?: string[];
  status?: string;
  ownerId?: string;
  needsRotation?: boolean;
  after?: string;
  limit: number;
  /** A condition on the credential row `c` narrowing the list to what the caller may see (access policies). */
  scope?: Expression<SqlBool>;
}

/** What access policies let one caller see: a SQL condition that may let through more than is visible, never less, and the exact check. */
export interface CredentialScope {
  where: Expression<SqlBool>;
  /** The visible ones among candidate ids, each with the reveal mode granted (null: visible, reveal not granted). */
  confirm(ids: readonly string[]): Promise<Map<string, { reveal: 'allow' | 'justification' | 'approval' | null }>>;
}

/** A credential with its device's name, as every view shows it. */
export type CredentialRow = CredentialTable & { device_name: string };

function withDevice(db: DbOrTx, tenantId: string) {
  return db
    .selectFrom('credentials as c')
    .innerJoin('devices as d', (j) => j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
    .selectAll('c')
    .select('d.name as device_name')
    .where('c.tenant_id', '=', tenantId);
}

/** Inserts a credential with its tags. */
export async function insertCredential(db: DbOrTx, row: CredentialTable, tags: string[]): Promise<void> {
  await db.insertInto('credentials').values(row).execute();
  await replaceTags(db, row.tenant_id, row.id, tags);
}

/** A tenant's credential by id, with its device's name. */
export async function findCredential(db: DbOrTx, tenantId: string, id: string): Promise<CredentialRow | undefined> {
  return withDevice(db, tenantId).where('c.id', '=', id).executeTakeFirst();
}

/** The credential of an account on a device, if one exists. */
export async function findByAccount(db: DbOrTx, tenantId: string, deviceId: string, username: string) {
  return db.selectFrom('credentials').select('id').where('tenant_id', '=', tenantId).where('device_id', '=', deviceId).where('username', '=', username).executeTakeFirst();
}

/**
 * Where a page is read from: the credentials' primary key in id order, or, when one tag is named, that tag's
 * index, which holds its credentials in id order too: a rare tag's few holders are found at once and a common
 * one's page ends after a page's worth, where a set of every holder would be built first.
 */
function pageSource(db: DbOrTx, tenantId: string, firstTag: string | undefined) {
  const all = db.selectFrom('credentials as c').selectAll('c').where('c.tenant_id', '=', tenantId);
  if (firstTag === undefined) return all;
  // Same columns, same row type: only the FROM differs, which the query's type does not need to know.
  // CROSS JOIN keeps SQLite (which has no statistics to go by) reading the tag first; PostgreSQL plans it as any join.
  return db
    .selectFrom('credential_tags as t')
    .crossJoin('credentials as c')
    .whereRef('c.tenant_id', '=', 't.tenant_id')
    .whereRef('c.id', '=', 't.credential_id')
    .selectAll('c')
    .where('t.tenant_id', '=', tenantId)
    .where('t.tag', '=', firstTag) as unknown as typeof all;
}

/**
 * One page of a tenant's credentials, oldest first, after the cursor (ids are time-ordered UUIDv7). The query reads
 * credentials alone, walking their primary key in id order: device attributes are semi-joins, never a join the
 * planner could start from the devices side (that would join every credential and sort them).
 */
export async function listCredentials(db: DbOrTx, tenantId: string, filter: CredentialFilter): Promise<CredentialTable[]> {
  const tags = [...new Set(filter.tags ?? [])];
  const byTag = tags.length === 1;
  let query = pageSource(db, tenantId, byTag ? tags[0] : undefined);
  if (filter.deviceId) query = query.where('c.device_id', '=', filter.deviceId);
  if (filter.username) query = query.where('c.username', '=', filter.username);
  if (filter.type) query = query.where('c.type', '=', filter.type as CredentialTable['type']);
  if (filter.status) query = query.where('c.status', '=', filter.status as CredentialTable['status']);
  if (filter.ownerId) query = query.where('c.owner_id', '=', filter.ownerId);
  if (filter.needsRotation !== undefined) query = query.where('c.needs_rotation', '=', filter.needsRotation ? 1 : 0);
  const devicesWhere = (column: 'name' | 'site' | 'type', value: string) => db.selectFrom('devices').select('id').where('tenant_id', '=', tenantId).where(column, '=', value);
  if (filter.deviceName) query = query.where('c.device_id', 'in', devicesWhere('name', filter.deviceName));
  if (filter.site) query = query.where('c.device_id', 'in', devicesWhere('site', filter.site));
  if (filter.deviceType) query = query.where('c.device_id', 'in', devicesWhere('type', filter.deviceType));
  // Several tags must all match: one semi-join reading each tag's index range, kept to the ids holding all of them.
  // (Walking one tag's index and looking the others up is as fast only when the walked tag is the rarer one, which
  // without planner statistics nothing tells; one IN per tag may make PostgreSQL start from the commonest.)
  if (tags.length > 1) {
    const holders = db.selectFrom('credential_tags').select('credential_id').where('tenant_id', '=', tenantId).where('tag', 'in', tags).groupBy('credential_id').having((eb) => eb.fn.countAll(), '=', tags.length);
    query = query.where('c.id', 'in', holders);
  }
  const deviceTags = [...new Set(filter.deviceTags ?? [])];
  if (deviceTags.length > 0) {
    let holders = db.selectFrom('device_tags').select('device_id').where('tenant_id', '=', tenantId).where('tag', 'in', deviceTags);
    if (deviceTags.length > 1) holders = holders.groupBy('device_id').having((eb) => eb.fn.countAll(), '=', deviceTags.length);
    query = query.where('c.device_id', 'in', holders);
  }
  if (filter.q) {
    // A search filter: % or _ typed by the caller only widen the match, which is harmless here.
    const like = `%${filter.q.toLowerCase()}%`;
    query = query.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['c.username']), 'like', like),
        eb(eb.fn('lower', ['c.notes']), 'like', like),
        eb('c.device_id', 'in', eb.selectFrom('devices').select('id').where('tenant_id', '=', tenantId).where((d) => d.or([d(d.fn('lower', ['name']), 'like', like), d(d.fn('lower', ['address']), 'like', like)]))),
      ]),
    );
  }
  if (filter.scope) query = query.where(filter.scope);
  const order = sql.ref(byTag ? 't.credential_id' : 'c.id');
  if (filter.after) query = query.where(order, '>', filter.after);
  return query.orderBy(order).limit(filter.limit).execute();
}

/** The names of several devices at once, by device id. */
export async function deviceNamesOf(db: DbOrTx, tenantId: string, deviceIds: string[]): Promise<Map<string, string>> {
  if (deviceIds.length === 0) return new Map();
  const rows = await db.selectFrom('devices').select(['id', 'name']).where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(deviceIds)]).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** The tags of several credentials at once, by credential id (sorted). */
export async function tagsOfMany(db: DbOrTx, tenantId: string, credentialIds: string[]): Promise<Map<string, string[]>> {
  const byCredential = new Map<string, string[]>(credentialIds.map((id) => [id, []]));
  if (credentialIds.length === 0) return byCredential;
  // In primary-key order (tenant, credential, tag): ORDER BY tag alone makes SQLite walk the tenant's whole tag index.
  const rows = await db.selectFrom('credential_tags').select(['credential_id', 'tag']).where('tenant_id', '=', tenantId).where('credential_id', 'in', credentialIds).orderBy('credential_id').orderBy('tag').execute();
  for (const row of rows) byCredential.get(row.credential_id)?.push(row.tag);
  return byCredential;
}

/** Changes a credential's columns. */
export async function updateCredential(db: DbOrTx, tenantId: string, id: string, changes: Partial<Omit<CredentialTable, 'tenant_id' | 'id' | 'created_at'>>): Promise<void> {
  await db.updateTable('credentials').set(changes).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/**
 * Claims the credential's next secret version and takes its row lock, so concurrent secret changes get distinct
 * versions; answers the new version, or undefined when the credential does not exist.
 */
export async function claimNextVersion(db: DbOrTx, tenantId: string, id: string): Promise<number | undefined> {
  const row = await db
    .updateTable('credentials')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returning('version')
    .executeTakeFirst();
  return row ? Number(row.version) : undefined;
}

/** Replaces a credential's tags. */
export async function replaceTags(db: DbOrTx, tenantId: string, credentialId: string, tags: string[]): Promise<void> {
  await db.deleteFrom('credential_tags').where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).execute();
  if (tags.length > 0) await db.insertInto('credential_tags').values(tags.map((tag) => ({ tenant_id: tenantId, credential_id: credentialId, tag }))).execute();
}

/** Records one version of a credential's secret. */
export async function insertVersion(db: DbOrTx, row: CredentialVersionTable): Promise<void> {
  await db.insertInto('credential_versions').values(row).execute();
}

/** A credential's versions, newest first, older than `before` when given (never the sealed values). */
export async function listVersions(db: DbOrTx, tenantId: string, credentialId: string, page: { before?: number; limit: number }) {
  let query = db.selectFrom('credential_versions').select(['version', 'reason', 'created_by', 'created_at']).where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId);
  if (page.before !== undefined) query = query.where('version', '<', page.before);
  return query.orderBy('version', 'desc').limit(page.limit).execute();
}

/** One version of a credential's secret, sealed. */
export async function findVersion(db: DbOrTx, tenantId: string, credentialId: string, version: number) {
  return db.selectFrom('credential_versions').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).where('version', '=', version).executeTakeFirst();
}

/** Removes a credential with every version of its secret and its tags; answers how many versions went. */
export async function deleteCredential(db: DbOrTx, tenantId: string, id: string): Promise<number> {
  const versions = await db.deleteFrom('credential_versions').where('tenant_id', '=', tenantId).where('credential_id', '=', id).executeTakeFirst();
  await db.deleteFrom('credential_tags').where('tenant_id', '=', tenantId).where('credential_id', '=', id).execute();
  await db.deleteFrom('credentials').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  return Number(versions.numDeletedRows);
}
