import type { DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';
import type { MfaTotpTable } from '../../platform/db/schema.js';

/** The user's TOTP enrolment, confirmed or not. */
export async function findTotp(db: DbOrTx, tenantId: string, userId: string) {
  return (await totpOf(db, tenantId, userId))[0];
}
// Compiled once: every login asks whether the user has a second factor.
const totpOf = prepareQuery(2, (db: DbOrTx, tenantId: string, userId: string) => db.selectFrom('mfa_totp').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId));

/** Starts (or restarts) an unconfirmed enrolment. */
export async function saveTotp(db: DbOrTx, row: MfaTotpTable): Promise<void> {
  await db.deleteFrom('mfa_totp').where('tenant_id', '=', row.tenant_id).where('user_id', '=', row.user_id).execute();
  await db.insertInto('mfa_totp').values(row).execute();
}

/** Records an accepted step, only if it is newer than the last one (a code is never accepted twice, even concurrently). */
export async function advanceStep(db: DbOrTx, tenantId: string, userId: string, step: number, confirmedAt?: number): Promise<boolean> {
  const result = await db
    .updateTable('mfa_totp')
    .set({ last_step: step, ...(confirmedAt ? { confirmed_at: confirmedAt } : {}) })
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Replaces the user's recovery codes. */
export async function replaceRecoveryCodes(db: DbOrTx, tenantId: string, userId: string, hashes: string[]): Promise<void> {
  await db.deleteFrom('mfa_recovery_codes').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  await db.insertInto('mfa_recovery_codes').values(hashes.map((code_hash) => ({ tenant_id: tenantId, user_id: userId, code_hash, used_at: null }))).execute();
}

/** Spends one unused recovery code; answers whether it existed and was unused. */
export async function useRecoveryCode(db: DbOrTx, tenantId: string, userId: string, hash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('mfa_recovery_codes')
    .set({ used_at: now })
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('code_hash', '=', hash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Removes the enrolment and its recovery codes. */
export async function deleteMfa(db: DbOrTx, tenantId: string, userId: string): Promise<void> {
  await db.deleteFrom('mfa_totp').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  await db.deleteFrom('mfa_recovery_codes').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
}

/** What an authenticator app shows for the account: `tenant-slug:username`. */
export async function accountLabel(db: DbOrTx, tenantId: string, userId: string): Promise<string> {
  const row = await db
    .selectFrom('users as u')
    .innerJoin('tenants as t', 't.id', 'u.tenant_id')
    .select(['u.username', 't.slug'])
    .where('u.tenant_id', '=', tenantId)
    .where('u.id', '=', userId)
    .executeTakeFirstOrThrow();
  return `${row.slug}:${row.username}`;
}
