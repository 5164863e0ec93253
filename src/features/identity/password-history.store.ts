import type { DbOrTx } from '../../platform/db/database.js';
import type { PasswordHistoryTable } from '../../platform/db/schema.js';

/** The hashes of the user's passwords before the current one, newest first, at most `limit`. */
export async function previousPasswordHashes(db: DbOrTx, tenantId: string, userId: string, limit: number): Promise<string[]> {
  if (limit <= 0) return [];
  const rows = await db
    .selectFrom('password_history')
    .select('password_hash')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.password_hash);
}

/** Keeps a replaced password's hash, then trims the user's history to the newest `keep` entries (0 empties it). */
export async function rememberPassword(db: DbOrTx, row: PasswordHistoryTable, keep: number): Promise<void> {
  if (keep > 0) await db.insertInto('password_history').values(row).execute();
  // Ids are UUIDv7, so the newest entries sort last; everything older than the newest `keep` goes.
  await db
    .deleteFrom('password_history')
    .where('tenant_id', '=', row.tenant_id)
    .where('user_id', '=', row.user_id)
    .where('id', 'not in', (eb) =>
      eb.selectFrom('password_history').select('id').where('tenant_id', '=', row.tenant_id).where('user_id', '=', row.user_id).orderBy('id', 'desc').limit(keep),
    )
    .execute();
}
