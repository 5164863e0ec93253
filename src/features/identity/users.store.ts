import type { DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';
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
  return (await userByUsername(db, tenantId, username))[0];
}
// Compiled once: every login looks its user up.
const userByUsername = prepareQuery(2, (db: DbOrTx, tenantId: string, username: string) => db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('username', '=', username));

/** A tenant's user by id. */
export async function findUserById(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** The user's roles, sorted. */
export async function rolesOf(db: DbOrTx, tenantId: string, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('user_roles').select('role').where('tenant_id', '=', tenantId).where('user_id', '=', userId).orderBy('role').execute();
  return rows.map((r) => r.role);
}

/** Sets the password hash (its age starts now) and makes a pending user active. */
export async function activateUser(db: DbOrTx, tenantId: string, id: string, passwordHash: string, now: number): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, status: 'active', updated_at: now, password_changed_at: now })
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

/** One page of a tenant's users, oldest first, after the cursor (ids are time-ordered UUIDv7). */
export async function listUsers(db: DbOrTx, tenantId: string, filter: { q?: string; status?: UserTable['status']; role?: string; after?: string; limit: number }) {
  let query = db.selectFrom('users as u').selectAll('u').where('u.tenant_id', '=', tenantId);
  if (filter.status) query = query.where('u.status', '=', filter.status);
  if (filter.after) query = query.where('u.id', '>', filter.after);
  if (filter.q) {
    // A search filter: % or _ typed by the caller only widen the match, which is harmless here.
    const like = `%${filter.q.toLowerCase()}%`;
    query = query.where((eb) => eb.or([eb('u.username', 'like', like), eb(eb.fn('lower', ['u.email']), 'like', like), eb(eb.fn('lower', ['u.display_name']), 'like', like)]));
  }
  if (filter.role) {
    const role = filter.role;
    query = query.where((eb) => eb.exists(eb.selectFrom('user_roles as r').select('r.role').whereRef('r.tenant_id', '=', 'u.tenant_id').whereRef('r.user_id', '=', 'u.id').where('r.role', '=', role)));
  }
  return query.orderBy('u.id').limit(filter.limit).execute();
}

/** The roles of several users at once, by user id. */
export async function rolesOfMany(db: DbOrTx, tenantId: string, userIds: string[]): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return byUser;
  const rows = await db.selectFrom('user_roles').select(['user_id', 'role']).where('tenant_id', '=', tenantId).where('user_id', 'in', userIds).orderBy('role').execute();
  for (const row of rows) byUser.get(row.user_id)?.push(row.role);
  return byUser;
}

/** The usernames of several users at once, by user id; ids of no user of the tenant are absent. */
export async function usernamesOf(db: DbOrTx, tenantId: string, userIds: readonly string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['id', 'username']).where('tenant_id', '=', tenantId).where('id', 'in', [...new Set(userIds)]).execute();
  return new Map(rows.map((r) => [r.id, r.username]));
}

/** Changes profile fields and the status of a user. */
export async function updateUser(db: DbOrTx, tenantId: string, id: string, changes: Partial<Pick<UserTable, 'email' | 'display_name' | 'status' | 'failed_logins' | 'locked_until' | 'deactivation_reason'>>, now: number): Promise<void> {
  await db.updateTable('users').set({ ...changes, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Replaces a user's roles. */
export async function setRoles(db: DbOrTx, tenantId: string, userId: string, roles: string[]): Promise<void> {
  await db.deleteFrom('user_roles').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  if (roles.length > 0) await db.insertInto('user_roles').values(roles.map((role) => ({ tenant_id: tenantId, user_id: userId, role }))).execute();
}

/** Grants roles to a user (those they already hold are left as they are). */
export async function addRoles(db: DbOrTx, tenantId: string, userId: string, roles: readonly string[]): Promise<void> {
  if (roles.length === 0) return;
  await db.insertInto('user_roles').values(roles.map((role) => ({ tenant_id: tenantId, user_id: userId, role }))).onConflict((oc) => oc.doNothing()).execute();
}

/** How many active tenant-admins the tenant has besides this user. */
export async function countOtherActiveAdmins(db: DbOrTx, tenantId: string, userId: string): Promise<number> {
  const row = await db
    .selectFrom('users as u')
    .innerJoin('user_roles as r', (j) => j.onRef('r.tenant_id', '=', 'u.tenant_id').onRef('r.user_id', '=', 'u.id'))
    .select((eb) => eb.fn.countAll().as('n'))
    .where('u.tenant_id', '=', tenantId)
    .where('u.id', '!=', userId)
    .where('u.status', '=', 'active')
    .where('r.role', '=', 'tenant-admin')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Removes a user and everything that belongs to them. */
export async function deleteUser(db: DbOrTx, tenantId: string, id: string): Promise<void> {
  for (const table of ['user_roles', 'group_members', 'sessions', 'activation_tokens', 'mfa_totp', 'mfa_recovery_codes', 'sso_links', 'password_history', 'notifications'] as const) {
    await db.deleteFrom(table).where('tenant_id', '=', tenantId).where('user_id', '=', id).execute();
  }
  // Owning a vault credential is metadata naming the user: cleared here, the one deletion path of the API and SCIM,
  // so no credential points at a removed user (deactivation keeps it: the owner may come back).
  await db.updateTable('credentials').set({ owner_id: null }).where('tenant_id', '=', tenantId).where('owner_id', '=', id).execute();
  // Access policies name users as members and approvers (features/access): a removed user leaves every policy.
  await db.deleteFrom('access_policy_subjects').where('tenant_id', '=', tenantId).where('subject_type', '=', 'user').where('subject_id', '=', id).execute();
  await db.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Tenants that have active users: the only ones the inactivity rule can act on. */
export async function tenantsWithActiveUsers(db: DbOrTx): Promise<string[]> {
  const rows = await db.selectFrom('users').select('tenant_id').where('status', '=', 'active').distinct().execute();
  return rows.map((r) => r.tenant_id);
}

/** Active users whose last login (or, never having logged in, last account change) is before the cutoff. */
export async function inactiveSince(db: DbOrTx, tenantId: string, cutoff: number) {
  return db
    .selectFrom('users')
    .select(['id', 'username'])
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'active')
    .where((eb) => eb.or([eb('last_login_at', '<', cutoff), eb.and([eb('last_login_at', 'is', null), eb('updated_at', '<', cutoff)])]))
    .orderBy('id')
    .execute();
}
