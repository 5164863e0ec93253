import type { DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';
import type { CredentialCheckoutTable } from '../../platform/db/schema.js';

/**
 * A credential as a reveal or a checkout needs it, in one read: its current sealed secret, its device's name, and
 * the holder of its active checkout (null when nobody holds it).
 */
export async function findForUse(db: DbOrTx, tenantId: string, id: string) {
  return (await usableRows(db, tenantId, id))[0];
}
// Compiled once: every reveal and checkout reads it.
const usableRows = prepareQuery(2, (db: DbOrTx, tenantId: string, id: string) =>
  db
    .selectFrom('credentials as c')
    .innerJoin('devices as d', (j) => j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
    .leftJoin('credential_checkouts as k', (j) => j.onRef('k.tenant_id', '=', 'c.tenant_id').onRef('k.active_credential_id', '=', 'c.id'))
    .select(['c.tenant_id', 'c.id', 'c.device_id', 'c.username', 'c.type', 'c.version', 'c.secret_sealed', 'c.passphrase_sealed', 'c.status', 'd.name as device_name', 'k.id as checkout_id', 'k.user_id as holder_id'])
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', '=', id),
);
export type UsableCredential = NonNullable<Awaited<ReturnType<typeof findForUse>>>;

/** Records a checkout; a second active checkout of the credential violates the unique constraint. */
export async function insertCheckout(db: DbOrTx, row: CredentialCheckoutTable): Promise<void> {
  await db.insertInto('credential_checkouts').values(row).execute();
}

/** The active checkout of a credential, if any. */
export async function activeOf(db: DbOrTx, tenantId: string, credentialId: string) {
  return db.selectFrom('credential_checkouts').selectAll().where('tenant_id', '=', tenantId).where('active_credential_id', '=', credentialId).executeTakeFirst();
}

/** One checkout of the tenant by id (active or ended). */
export async function findCheckout(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('credential_checkouts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** The tenant's active checkouts, oldest first: one user's, or everyone's. */
export async function listActive(db: DbOrTx, tenantId: string, userId?: string) {
  let query = db.selectFrom('credential_checkouts').selectAll().where('tenant_id', '=', tenantId).where('active_credential_id', 'is not', null);
  if (userId) query = query.where('user_id', '=', userId);
  return query.orderBy('checked_out_at').orderBy('id').limit(1000).execute();
}

/** Ends an active checkout; answers false when it had already ended (another node or request got there first). */
export async function endCheckout(db: DbOrTx, tenantId: string, id: string, end: { checked_in_at: number; checked_in_by: string; reason: NonNullable<CredentialCheckoutTable['reason']> }): Promise<boolean> {
  const result = await db
    .updateTable('credential_checkouts')
    .set({ ...end, active_credential_id: null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('active_credential_id', 'is not', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Active checkouts whose lease ended at or before `now`, across tenants, oldest first (the expiry sweep). */
export async function expiredBefore(db: DbOrTx, now: number, limit: number) {
  return db
    .selectFrom('credential_checkouts')
    .select(['tenant_id', 'id', 'credential_id', 'user_id'])
    .where('expires_at', '<=', now)
    .where('active_credential_id', 'is not', null)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

/** Flags a credential for rotation. */
export async function markForRotation(db: DbOrTx, tenantId: string, credentialId: string): Promise<void> {
  await db.updateTable('credentials').set({ needs_rotation: 1 }).where('tenant_id', '=', tenantId).where('id', '=', credentialId).execute();
}
