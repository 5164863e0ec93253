import type { DbOrTx } from '../../platform/db/database.js';
import type { DeviceTable } from '../../platform/db/schema.js';

/** A protocol a device speaks, with its port. */
export interface ProtocolRow {
  protocol: string;
  port: number;
}

/** Inserts a device with its protocols and tags. */
export async function insertDevice(db: DbOrTx, row: DeviceTable, protocols: ProtocolRow[], tags: string[]): Promise<void> {
  await db.insertInto('devices').values(row).execute();
  await replaceProtocols(db, row.tenant_id, row.id, protocols);
  await replaceTags(db, row.tenant_id, row.id, tags);
}

/** A tenant's device by id. */
export async function findDevice(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** A tenant's device by its (unique) name. */
export async function findDeviceByName(db: DbOrTx, tenantId: string, name: string) {
  return db.selectFrom('devices').select('id').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
}

/**
 * Takes the device row's write lock (a no-op update) and answers the row, or undefined when it does not exist:
 * a credential added to a device and the device's deletion then run one after the other, never past each other.
 */
export async function lockDevice(db: DbOrTx, tenantId: string, id: string) {
  return db
    .updateTable('devices')
    .set((eb) => ({ updated_at: eb.ref('updated_at') }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

/** One page of a tenant's devices, oldest first, after the cursor (ids are time-ordered UUIDv7). */
export async function listDevices(
  db: DbOrTx,
  tenantId: string,
  filter: { q?: string; protocol?: string; address?: string; type?: string; vendor?: string; model?: string; site?: string; tags?: string[]; criticality?: string; status?: string; after?: string; limit: number },
) {
  let query = db.selectFrom('devices as d').selectAll('d').where('d.tenant_id', '=', tenantId);
  for (const column of ['address', 'type', 'vendor', 'model', 'site', 'criticality', 'status'] as const) {
    const value = filter[column];
    if (value !== undefined) query = query.where(`d.${column}`, '=', value);
  }
  if (filter.protocol) {
    const protocol = filter.protocol;
    query = query.where('d.id', 'in', (eb) => eb.selectFrom('device_protocols').select('device_id').where('tenant_id', '=', tenantId).where('protocol', '=', protocol));
  }
  // Every tag named must match: one semi-join over the tags' index ranges, kept to the devices holding all of them.
  const tags = [...new Set(filter.tags ?? [])];
  if (tags.length > 0) {
    let holders = db.selectFrom('device_tags').select('device_id').where('tenant_id', '=', tenantId).where('tag', 'in', tags);
    if (tags.length > 1) holders = holders.groupBy('device_id').having((eb) => eb.fn.countAll(), '=', tags.length);
    query = query.where('d.id', 'in', holders);
  }
  if (filter.q) {
    // A search filter: % or _ typed by the caller only widen the match, which is harmless here.
    const like = `%${filter.q.toLowerCase()}%`;
    query = query.where((eb) =>
      eb.or(['name', 'address', 'vendor', 'model', 'description'].map((column) => eb(eb.fn('lower', [`d.${column}` as 'd.name']), 'like', like))),
    );
  }
  if (filter.after) query = query.where('d.id', '>', filter.after);
  return query.orderBy('d.id').limit(filter.limit).execute();
}

/** The protocols of several devices at once, by device id (sorted by protocol). */
export async function protocolsOfMany(db: DbOrTx, tenantId: string, deviceIds: string[]): Promise<Map<string, ProtocolRow[]>> {
  const byDevice = new Map<string, ProtocolRow[]>(deviceIds.map((id) => [id, []]));
  if (deviceIds.length === 0) return byDevice;
  const rows = await db.selectFrom('device_protocols').select(['device_id', 'protocol', 'port']).where('tenant_id', '=', tenantId).where('device_id', 'in', deviceIds).orderBy('protocol').execute();
  for (const row of rows) byDevice.get(row.device_id)?.push({ protocol: row.protocol, port: row.port });
  return byDevice;
}

/** The tags of several devices at once, by device id (sorted). */
export async function tagsOfMany(db: DbOrTx, tenantId: string, deviceIds: string[]): Promise<Map<string, string[]>> {
  const byDevice = new Map<string, string[]>(deviceIds.map((id) => [id, []]));
  if (deviceIds.length === 0) return byDevice;
  // In primary-key order (tenant, device, tag): ORDER BY tag alone makes SQLite walk the tenant's whole tag index.
  const rows = await db.selectFrom('device_tags').select(['device_id', 'tag']).where('tenant_id', '=', tenantId).where('device_id', 'in', deviceIds).orderBy('device_id').orderBy('tag').execute();
  for (const row of rows) byDevice.get(row.device_id)?.push(row.tag);
  return byDevice;
}

/** Changes a device's columns. */
export async function updateDevice(db: DbOrTx, tenantId: string, id: string, changes: Partial<Omit<DeviceTable, 'tenant_id' | 'id' | 'created_at'>>): Promise<void> {
  await db.updateTable('devices').set(changes).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Replaces the protocols a device speaks. */
export async function replaceProtocols(db: DbOrTx, tenantId: string, deviceId: string, protocols: ProtocolRow[]): Promise<void> {
  await db.deleteFrom('device_protocols').where('tenant_id', '=', tenantId).where('device_id', '=', deviceId).execute();
  if (protocols.length > 0) await db.insertInto('device_protocols').values(protocols.map((p) => ({ tenant_id: tenantId, device_id: deviceId, protocol: p.protocol, port: p.port }))).execute();
}

/** Replaces a device's tags. */
export async function replaceTags(db: DbOrTx, tenantId: string, deviceId: string, tags: string[]): Promise<void> {
  await db.deleteFrom('device_tags').where('tenant_id', '=', tenantId).where('device_id', '=', deviceId).execute();
  if (tags.length > 0) await db.insertInto('device_tags').values(tags.map((tag) => ({ tenant_id: tenantId, device_id: deviceId, tag }))).execute();
}

/** How many credentials a device holds. */
export async function countCredentialsOf(db: DbOrTx, tenantId: string, deviceId: string): Promise<number> {
  const row = await db.selectFrom('credentials').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('device_id', '=', deviceId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Removes a device with its protocols and tags. */
export async function deleteDevice(db: DbOrTx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('device_protocols').where('tenant_id', '=', tenantId).where('device_id', '=', id).execute();
  await db.deleteFrom('device_tags').where('tenant_id', '=', tenantId).where('device_id', '=', id).execute();
  await db.deleteFrom('devices').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}
