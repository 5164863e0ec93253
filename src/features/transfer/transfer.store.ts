import type { DbOrTx } from '../../platform/db/database.js';
import { chunks } from '../../platform/db/chunks.js';
import type { CredentialTable, CredentialTagTable, CredentialVersionTable, DeviceProtocolTable, DeviceTable, DeviceTagTable } from '../../platform/db/schema.js';


/** The tenant's devices among these names, by name. */
export async function devicesByName(db: DbOrTx, tenantId: string, names: readonly string[]) {
  const found = new Map<string, Pick<DeviceTable, 'id' | 'name' | 'address' | 'port' | 'protocol'>>();
  for (const part of chunks([...new Set(names)])) {
    const rows = await db.selectFrom('devices').select(['id', 'name', 'address', 'port', 'protocol']).where('tenant_id', '=', tenantId).where('name', 'in', part).execute();
    for (const row of rows) found.set(row.name, row);
  }
  return found;
}

/** The accounts (device id and username) that already have a credential on these devices, as `deviceId username` keys. */
export async function accountsOn(db: DbOrTx, tenantId: string, deviceIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks([...new Set(deviceIds)])) {
    const rows = await db.selectFrom('credentials').select(['device_id', 'username']).where('tenant_id', '=', tenantId).where('device_id', 'in', part).execute();
    for (const row of rows) found.add(accountKey(row.device_id, row.username));
  }
  return found;
}

/** The key of an account in accountsOn's answer. */
export const accountKey = (deviceId: string, username: string) => `${deviceId}\u0000${username}`;

/** Inserts devices with their protocols and tags, a few hundred rows per statement (every row is the tenant's). */
export async function insertDevices(db: DbOrTx, rows: DeviceTable[], protocols: DeviceProtocolTable[], tags: DeviceTagTable[]): Promise<void> {
  for (const part of chunks(rows)) await db.insertInto('devices').values(part).execute();
  for (const part of chunks(protocols)) await db.insertInto('device_protocols').values(part).execute();
  for (const part of chunks(tags)) await db.insertInto('device_tags').values(part).execute();
}

/** Inserts credentials with their tags and secret versions, a few hundred rows per statement. */
export async function insertCredentials(db: DbOrTx, rows: CredentialTable[], tags: CredentialTagTable[], versions: CredentialVersionTable[]): Promise<void> {
  for (const part of chunks(rows)) await db.insertInto('credentials').values(part).execute();
  for (const part of chunks(tags)) await db.insertInto('credential_tags').values(part).execute();
  for (const part of chunks(versions)) await db.insertInto('credential_versions').values(part).execute();
}

/** Every device of the tenant, oldest first. */
export async function allDevices(db: DbOrTx, tenantId: string) {
  return db.selectFrom('devices').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
}

/** Every device protocol of the tenant, by device id (sorted by protocol). */
export async function allDeviceProtocols(db: DbOrTx, tenantId: string) {
  const rows = await db.selectFrom('device_protocols').select(['device_id', 'protocol', 'port']).where('tenant_id', '=', tenantId).orderBy('device_id').orderBy('protocol').execute();
  return group(rows, (r) => r.device_id, (r) => ({ protocol: r.protocol, port: r.port }));
}

/** Every device tag of the tenant, by device id (sorted). */
export async function allDeviceTags(db: DbOrTx, tenantId: string) {
  const rows = await db.selectFrom('device_tags').select(['device_id', 'tag']).where('tenant_id', '=', tenantId).orderBy('device_id').orderBy('tag').execute();
  return group(rows, (r) => r.device_id, (r) => r.tag);
}

/** Every credential of the tenant with its device's name and address, oldest first; never a sealed value. */
export async function allCredentials(db: DbOrTx, tenantId: string) {
  return db
    .selectFrom('credentials as c')
    .innerJoin('devices as d', (j) => j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
    .select(['c.id', 'c.device_id', 'c.username', 'c.type', 'c.notes', 'c.additional_info', 'c.status', 'd.name as device_name', 'd.address', 'd.port', 'd.protocol', 'd.site', 'd.type as device_type'])
    .where('c.tenant_id', '=', tenantId)
    .orderBy('c.id')
    .execute();
}

/** Every credential tag of the tenant, by credential id (sorted). */
export async function allCredentialTags(db: DbOrTx, tenantId: string) {
  const rows = await db.selectFrom('credential_tags').select(['credential_id', 'tag']).where('tenant_id', '=', tenantId).orderBy('credential_id').orderBy('tag').execute();
  return group(rows, (r) => r.credential_id, (r) => r.tag);
}

function group<R, V>(rows: R[], key: (r: R) => string, value: (r: R) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const row of rows) {
    const k = key(row);
    const list = out.get(k);
    if (list) list.push(value(row));
    else out.set(k, [value(row)]);
  }
  return out;
}
