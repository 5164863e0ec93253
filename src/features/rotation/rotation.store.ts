import type { DbOrTx } from '../../platform/db/database.js';
import type { CredentialHeartbeatTable, RotationState, RotationTable, RotationTrigger } from '../../platform/db/schema.rotation.js';

/** States a rotation can still leave. */
export const activeStates: RotationState[] = ['scheduled', 'running'];

/** Adds a rotation. */
export async function insertRotation(db: DbOrTx, row: RotationTable): Promise<void> {
  await db.insertInto('rotations').values(row).execute();
}

/** One rotation of a tenant. */
export async function findRotation(db: DbOrTx, tenantId: string, id: string): Promise<RotationTable | undefined> {
  return db.selectFrom('rotations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** Changes a rotation's columns; with `whenState`, only while it is in one of those states (answers whether it changed). */
export async function updateRotation(db: DbOrTx, tenantId: string, id: string, changes: Partial<Omit<RotationTable, 'tenant_id' | 'id' | 'created_at'>>, whenState?: RotationState[]): Promise<boolean> {
  let query = db.updateTable('rotations').set(changes).where('tenant_id', '=', tenantId).where('id', '=', id);
  if (whenState) query = query.where('state', 'in', whenState);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The rotation of a credential that is still scheduled or running, if any. */
export async function activeRotationOf(db: DbOrTx, tenantId: string, credentialId: string): Promise<RotationTable | undefined> {
  return db.selectFrom('rotations').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).where('state', 'in', activeStates).executeTakeFirst();
}

/** The credentials among candidates that have a rotation still scheduled or running. */
export async function credentialsWithActiveRotation(db: DbOrTx, tenantId: string, credentialIds: string[]): Promise<Set<string>> {
  if (credentialIds.length === 0) return new Set();
  const rows = await db.selectFrom('rotations').select('credential_id').where('tenant_id', '=', tenantId).where('credential_id', 'in', credentialIds).where('state', 'in', activeStates).execute();
  return new Set(rows.map((r) => r.credential_id));
}

/** The credentials among candidates whose rotation (of one trigger, if given) failed since `since`: left alone for a while. */
export async function credentialsFailedSince(db: DbOrTx, tenantId: string, credentialIds: string[], since: number, trigger?: RotationTrigger): Promise<Set<string>> {
  if (credentialIds.length === 0) return new Set();
  let query = db.selectFrom('rotations').select('credential_id').where('tenant_id', '=', tenantId).where('credential_id', 'in', credentialIds).where('state', '=', 'failed').where('finished_at', '>', since);
  if (trigger) query = query.where('trigger', '=', trigger);
  const rows = await query.execute();
  return new Set(rows.map((r) => r.credential_id));
}

/** How many rotations of a device are running now (the per-device concurrency limit). */
export async function runningOnDevice(db: DbOrTx, tenantId: string, deviceId: string, exceptId: string): Promise<number> {
  const row = await db.selectFrom('rotations').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'running').where('device_id', '=', deviceId).where('tenant_id', '=', tenantId).where('id', '!=', exceptId).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** A credential's rotations, newest first, before the cursor id. */
export async function listRotations(db: DbOrTx, tenantId: string, credentialId: string, page: { before?: string; limit: number }): Promise<RotationTable[]> {
  let query = db.selectFrom('rotations').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId);
  if (page.before) query = query.where('id', '<', page.before);
  return query.orderBy('id', 'desc').limit(page.limit).execute();
}

/** Rotations of every tenant left running or holding a pending secret (a crash, or a failure whose outcome on the target is unknown). */
export async function unsettledRotations(db: DbOrTx, limit: number): Promise<RotationTable[]> {
  return db.selectFrom('rotations').selectAll().where('state', 'in', activeStates).where((eb) => eb.or([eb('state', '=', 'running'), eb('pending_secret_sealed', 'is not', null)])).orderBy('id').limit(limit).execute();
}

/**
 * The credentials among candidates in use now: checked out, or inside an approved access window. Their rotation
 * waits for the use to end, so a secret is never changed under the person holding it.
 */
export async function credentialsInUse(db: DbOrTx, tenantId: string, credentialIds: string[], now: number): Promise<Set<string>> {
  if (credentialIds.length === 0) return new Set();
  const [checkouts, windows] = await Promise.all([
    db.selectFrom('credential_checkouts').select('credential_id').where('tenant_id', '=', tenantId).where('credential_id', 'in', credentialIds).where('checked_in_at', 'is', null).where('expires_at', '>', now).execute(),
    db.selectFrom('access_requests').select('credential_id').where('tenant_id', '=', tenantId).where('credential_id', 'in', credentialIds).where('status', '=', 'approved').where('valid_from', '<=', now).where('valid_until', '>', now).execute(),
  ]);
  return new Set([...checkouts, ...windows].map((r) => r.credential_id));
}

/** Records a heartbeat verdict on a credential (changed_at moves only when the status does); answers the status before. */
export async function recordHeartbeat(trx: DbOrTx, tenantId: string, credentialId: string, verdict: { status: CredentialHeartbeatTable['status']; errorCode: string | null; now: number }) {
  const { status, errorCode, now } = verdict;
  const before = await trx.selectFrom('credential_heartbeats').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).executeTakeFirst();
  const changedAt = before?.status === status ? before.changed_at : now;
  if (before) await trx.updateTable('credential_heartbeats').set({ status, error_code: errorCode, checked_at: now, changed_at: changedAt }).where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).execute();
  else await trx.insertInto('credential_heartbeats').values({ tenant_id: tenantId, credential_id: credentialId, status, error_code: errorCode, checked_at: now, changed_at: now }).execute();
  return before?.status ?? null;
}
