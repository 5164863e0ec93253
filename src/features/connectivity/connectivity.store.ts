import type { DbOrTx } from '../../platform/db/database.js';
import type { ConnectivityCheckTable, ConnectivityStateTable } from '../../platform/db/schema.connectivity.js';
import type { CredentialTable, DeviceTable } from '../../platform/db/schema.js';

/** How many checks of one device the history keeps (older ones are pruned as new ones arrive). */
export const HISTORY_PER_DEVICE = 100;

const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
const toCheck = (row: ConnectivityCheckTable): ConnectivityCheckTable => ({ ...row, latency_ms: num(row.latency_ms), checked_at: Number(row.checked_at) });
const toState = (row: ConnectivityStateTable): ConnectivityStateTable => ({ ...row, latency_ms: num(row.latency_ms), checked_at: Number(row.checked_at), since: Number(row.since) });

/** Records a check and drops the device's checks beyond the newest HISTORY_PER_DEVICE. */
export async function insertCheck(db: DbOrTx, row: ConnectivityCheckTable): Promise<void> {
  await db.insertInto('connectivity_checks').values(row).execute();
  const oldestKept = await db.selectFrom('connectivity_checks').select('id').where('tenant_id', '=', row.tenant_id).where('device_id', '=', row.device_id)
    .orderBy('id', 'desc').offset(HISTORY_PER_DEVICE - 1).limit(1).executeTakeFirst();
  if (oldestKept) await db.deleteFrom('connectivity_checks').where('tenant_id', '=', row.tenant_id).where('device_id', '=', row.device_id).where('id', '<', oldestKept.id).execute();
}

/** A device's latest result, if it was ever checked. */
export async function findState(db: DbOrTx, tenantId: string, deviceId: string): Promise<ConnectivityStateTable | undefined> {
  const row = await db.selectFrom('connectivity_state').selectAll().where('tenant_id', '=', tenantId).where('device_id', '=', deviceId).executeTakeFirst();
  return row && toState(row);
}

/** Replaces a device's latest result. */
export async function saveState(db: DbOrTx, row: ConnectivityStateTable): Promise<void> {
  const { tenant_id: _t, device_id: _d, ...changes } = row;
  await db.insertInto('connectivity_state').values(row).onConflict((oc) => oc.columns(['tenant_id', 'device_id']).doUpdateSet(changes)).execute();
}

/** A device's checks, newest first, after the cursor (an id of the previous page). */
export async function listChecks(db: DbOrTx, tenantId: string, deviceId: string, page: { cursor?: string; limit: number }): Promise<ConnectivityCheckTable[]> {
  let query = db.selectFrom('connectivity_checks').selectAll().where('tenant_id', '=', tenantId).where('device_id', '=', deviceId);
  if (page.cursor) query = query.where('id', '<', page.cursor);
  return (await query.orderBy('id', 'desc').limit(page.limit).execute()).map(toCheck);
}

/** Active devices of a tenant whose last check is older than `before` (or that were never checked), oldest first. */
export async function dueDevices(db: DbOrTx, tenantId: string, before: number, limit: number): Promise<DeviceTable[]> {
  return db.selectFrom('devices').leftJoin('connectivity_state as s', (join) => join.onRef('s.tenant_id', '=', 'devices.tenant_id').onRef('s.device_id', '=', 'devices.id'))
    .selectAll('devices').where('devices.tenant_id', '=', tenantId).where('devices.status', '=', 'active')
    .where((eb) => eb.or([eb('s.checked_at', 'is', null), eb('s.checked_at', '<', before)]))
    .orderBy('s.checked_at').orderBy('devices.id').limit(limit).execute();
}

/** How many active devices a tenant has: a paced round takes its share of them. */
export async function countActiveDevices(db: DbOrTx, tenantId: string): Promise<number> {
  const row = await db.selectFrom('devices').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('status', '=', 'active').executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Active tenants' ids: the scheduler's round covers each. */
export async function activeTenantIds(db: DbOrTx): Promise<string[]> {
  return (await db.selectFrom('tenants').select('id').where('status', '=', 'active').orderBy('id').execute()).map((row) => row.id);
}

/** The device's active credentials of the given types, oldest first: the first one is what a check logs in with. */
export async function loginCredentials(db: DbOrTx, tenantId: string, deviceId: string, types: CredentialTable['type'][]): Promise<CredentialTable[]> {
  if (types.length === 0) return [];
  return db.selectFrom('credentials').selectAll().where('tenant_id', '=', tenantId).where('device_id', '=', deviceId).where('status', '=', 'active').where('type', 'in', types).orderBy('id').execute();
}
