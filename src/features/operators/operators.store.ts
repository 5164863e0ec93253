import type { DbOrTx } from '../../platform/db/database.js';
import type { OperatorTokenTable } from '../../platform/db/schema.js';

/** Stores an operator token by its hash; the token itself is never stored. */
export async function insertOperatorToken(db: DbOrTx, row: OperatorTokenTable): Promise<void> {
  await db.insertInto('operator_tokens').values(row).execute();
}

/** The live (unrevoked) operator token with this hash, if any. */
export async function findLiveOperatorToken(db: DbOrTx, tokenHash: string) {
  return db
    .selectFrom('operator_tokens')
    .select(['id', 'name', 'last_used_at'])
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

/** Records use at most once a minute, so the operator plane's token check stays a read. */
export async function touchOperatorToken(db: DbOrTx, id: string, now: number): Promise<void> {
  await db.updateTable('operator_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}

/** Every operator token, newest first, without hashes. */
export async function listOperatorTokens(db: DbOrTx) {
  return db.selectFrom('operator_tokens').select(['id', 'name', 'created_at', 'last_used_at', 'revoked_at']).orderBy('created_at', 'desc').execute();
}

/** Revokes a token; answers whether it existed and was live. */
export async function revokeOperatorToken(db: DbOrTx, id: string, now: number): Promise<boolean> {
  const result = await db.updateTable('operator_tokens').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
