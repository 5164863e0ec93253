import type { DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';

/** Inserts a user and its roles. */
export async function insertUser(db: DbOrTx, user: UserTable, roles: string[]): Promise<void> {
  await db.insertInto('users').values(user).execute();
  if (roles.length > 0) {
    await db.insertInto('user_roles').values(roles.map((role) => ({ tenant_id: user.tenant_id, user_id: user.id, role }))).execute();
  }
}

/** A tenant's user by login name (stored lower-case). */
export async function findUserByUsername(db: DbOrTx, tenantId: string, username: string) {
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('username', '=', username).executeTakeFirst();
}

/** A tenant's user by id. */
export async function findUserById(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** The user's roles, sorted. */
export async function rolesOf(db: DbOrTx, tenantId: string, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_roles').select('role').where('tenant_id', '=', tenantId).where('user_id', '=', userId).orderBy('role').execute();
  return rows.map((r) => r.role);
}

/** Sets the password hash and makes a pending user active. */
export async function activateUser(db: DbOrTx, tenantId: string, id: string, passwordHash: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, status: 'active', updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

/** Records a successful login. */
export async function recordLogin(db: DbOrTx, tenantId: string, id: string, now: number): Promise<void> {
  await db.updateTable('users').set({ last_login_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** The first tenant-admin still pending activation, if any. */
export async function findPendingAdmin(db: DbOrTx, tenantId: string) {
  return db
    .selectFrom('users as u')
    .innerJoin('user_roles as r', (j) => j.onRef('r.tenant_id', '=', 'u.tenant_id').onRef('r.user_id', '=', 'u.id'))
    .select(['u.id', 'u.username'])
    .where('u.tenant_id', '=', tenantId)
    .where('u.status', '=', 'pending')
    .where('r.role', '=', 'tenant-admin')
    .orderBy('u.created_at')
    .executeTakeFirst();
}
