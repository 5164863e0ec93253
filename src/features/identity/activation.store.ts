import type { DbOrTx } from '../../platform/db/database.js';
import type { ActivationTokenTable } from '../../platform/db/schema.js';

/** Stores a one-time activation token by its hash. */
export async function insertActivationToken(db: DbOrTx, row: ActivationTokenTable): Promise<void> {
  await db.insertInto('activation_tokens').values(row).execute();
}

/** The activation token with this hash in this tenant, used or not. */
export async function findActivationToken(db: DbOrTx, tenantId: string, tokenHash: string) {
  return db.selectFrom('activation_tokens').selectAll().where('tenant_id', '=', tenantId).where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Marks a token used; answers false if another request used it first (single use under concurrency). */
export async function consumeActivationToken(db: DbOrTx, tenantId: string, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('activation_tokens')
    .set({ used_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes activation tokens that expired or were used before the cutoff, in every tenant. */
export async function deleteActivationTokensEndedBefore(db: DbOrTx, cutoff: number): Promise<number> {
  const result = await db
    .deleteFrom('activation_tokens')
    .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('used_at', '<', cutoff)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Marks every unused activation token of a user as used, so only the newest one works. */
export async function voidActivationTokens(db: DbOrTx, tenantId: string, userId: string, now: number): Promise<void> {
  await db
    .updateTable('activation_tokens')
    .set({ used_at: now })
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .execute();
}
