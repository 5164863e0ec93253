import type { DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';
import { invalid } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { verifyPassword } from './passwords.js';
import { previousPasswordHashes, rememberPassword } from './password-history.store.js';

/**
 * Whether a new password is one of the user's last `count` passwords, the current one counting as the first
 * (so 1 matches only the current one, 0 nothing). Slow (argon2 per entry): call it before a transaction opens.
 */
export async function isRecentPassword(db: DbOrTx, user: Pick<UserTable, 'tenant_id' | 'id' | 'password_hash'>, candidate: string, count: number): Promise<boolean> {
  if (count <= 0 || !user.password_hash) return false;
  const hashes = [user.password_hash, ...(await previousPasswordHashes(db, user.tenant_id, user.id, count - 1))];
  return (await Promise.all(hashes.map((hash) => verifyPassword(hash, candidate)))).some(Boolean);
}

/** The refusal of a reused password, naming how many are remembered. */
export const passwordReused = (count: number) =>
  invalid(
    'PASSWORD_REUSED',
    count <= 1
      ? 'Choose a password different from the current one.'
      : `Choose a password different from your last ${count} passwords (the current one included): your tenant's policy refuses their reuse.`,
  );

/**
 * Keeps the password being replaced so it cannot come back, in the caller's transaction; the history holds
 * `historySize - 1` entries because the current password (on the user row) is the first of the N.
 */
export async function recordReplacedPassword(trx: DbOrTx, user: Pick<UserTable, 'tenant_id' | 'id' | 'password_hash'>, historySize: number, now: number): Promise<void> {
  if (!user.password_hash) return;
  await rememberPassword(trx, { tenant_id: user.tenant_id, user_id: user.id, id: newId(now), password_hash: user.password_hash, created_at: now }, Math.max(historySize - 1, 0));
}
