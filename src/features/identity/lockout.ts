import type { DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';
import type { SecurityPolicy } from './security-policy.js';

/** True while a lockout is in force; an expired one is lifted at the next login attempt. */
export function isLockedOut(user: Pick<UserTable, 'status' | 'locked_until'>, now: number): boolean {
  return user.status === 'locked' && user.locked_until !== null && user.locked_until > now;
}

/** Counts a failed password; answers true when this failure locked the account. */
export async function recordFailedLogin(db: DbOrTx, user: UserTable, policy: SecurityPolicy, now: number): Promise<boolean> {
  const failures = user.failed_logins + 1;
  const lock = policy.lockoutThreshold > 0 && failures >= policy.lockoutThreshold && user.status === 'active';
  await db
    .updateTable('users')
    .set(lock ? { failed_logins: failures, status: 'locked', locked_until: now + policy.lockoutMinutes * 60_000 } : { failed_logins: failures })
    .where('tenant_id', '=', user.tenant_id)
    .where('id', '=', user.id)
    .execute();
  return lock;
}

/** Clears failures and any expired lockout after a correct password. */
export async function clearFailedLogins(db: DbOrTx, user: UserTable): Promise<void> {
  if (user.failed_logins === 0 && user.status !== 'locked') return;
  await db
    .updateTable('users')
    .set({ failed_logins: 0, locked_until: null, ...(user.status === 'locked' ? { status: 'active' as const } : {}) })
    .where('tenant_id', '=', user.tenant_id)
    .where('id', '=', user.id)
    .execute();
}
