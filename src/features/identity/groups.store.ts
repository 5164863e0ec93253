import type { DbOrTx } from '../../platform/db/database.js';
import type { GroupTable } from '../../platform/db/schema.js';

/** Stores a new group. */
export async function insertGroup(db: DbOrTx, row: GroupTable): Promise<void> {
  await db.insertInto('groups').values(row).execute();
}

/** One group by id. */
export async function findGroup(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** One group by its exact name. */
export async function findGroupByName(db: DbOrTx, tenantId: string, name: string) {
  return db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
}

/** A page of groups in id order after the cursor, optionally matching a name fragment. */
export async function listGroups(db: DbOrTx, tenantId: string, filter: { q?: string; after?: string; limit: number }) {
  let query = db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId);
  if (filter.after) query = query.where('id', '>', filter.after);
  if (filter.q) query = query.where((eb) => eb(eb.fn('lower', ['name']), 'like', `%${filter.q!.toLowerCase()}%`));
  return query.orderBy('id').limit(filter.limit).execute();
}

/** Changes a group's name, description or external id. */
export async function updateGroup(db: DbOrTx, tenantId: string, id: string, changes: Partial<Pick<GroupTable, 'name' | 'description' | 'external_id'>>, now: number): Promise<void> {
  await db.updateTable('groups').set({ ...changes, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Removes a group with its memberships and role grants. */
export async function deleteGroup(db: DbOrTx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('group_members').where('tenant_id', '=', tenantId).where('group_id', '=', id).execute();
  await db.deleteFrom('group_roles').where('tenant_id', '=', tenantId).where('group_id', '=', id).execute();
  // Access policies name groups as members and approvers (features/access): a removed group leaves every policy.
  await db.deleteFrom('access_policy_subjects').where('tenant_id', '=', tenantId).where('subject_type', '=', 'group').where('subject_id', '=', id).execute();
  await db.deleteFrom('groups').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** The roles a group confers, sorted. */
export async function groupRoles(db: DbOrTx, tenantId: string, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('group_roles').select('role').where('tenant_id', '=', tenantId).where('group_id', '=', groupId).orderBy('role').execute();
  return rows.map((r) => r.role);
}

/** Grants roles to a group (those it already confers are left as they are). */
export async function addGroupRoles(db: DbOrTx, tenantId: string, groupId: string, roles: readonly string[]): Promise<void> {
  if (roles.length === 0) return;
  await db.insertInto('group_roles').values(roles.map((role) => ({ tenant_id: tenantId, group_id: groupId, role }))).onConflict((oc) => oc.doNothing()).execute();
}

/** Takes roles away from a group. */
export async function removeGroupRoles(db: DbOrTx, tenantId: string, groupId: string, roles: readonly string[]): Promise<void> {
  if (roles.length === 0) return;
  await db.deleteFrom('group_roles').where('tenant_id', '=', tenantId).where('group_id', '=', groupId).where('role', 'in', roles).execute();
}

/** The ids of a group's members in id order. */
export async function memberIds(db: DbOrTx, tenantId: string, groupId: string): Promise<string[]> {
  const rows = await db.selectFrom('group_members').select('user_id').where('tenant_id', '=', tenantId).where('group_id', '=', groupId).orderBy('user_id').execute();
  return rows.map((r) => r.user_id);
}

/** A group's members with their names, for views. */
export async function members(db: DbOrTx, tenantId: string, groupId: string) {
  return db
    .selectFrom('group_members as m')
    .innerJoin('users as u', (j) => j.onRef('u.tenant_id', '=', 'm.tenant_id').onRef('u.id', '=', 'm.user_id'))
    .select(['u.id', 'u.username', 'u.display_name'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.group_id', '=', groupId)
    .orderBy('u.username')
    .execute();
}

/** Adds users to a group (existing members are left as they are). */
export async function addMembers(db: DbOrTx, tenantId: string, groupId: string, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  await db.insertInto('group_members').values(userIds.map((userId) => ({ tenant_id: tenantId, group_id: groupId, user_id: userId }))).onConflict((oc) => oc.doNothing()).execute();
}

/** Removes users from a group. */
export async function removeMembers(db: DbOrTx, tenantId: string, groupId: string, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  await db.deleteFrom('group_members').where('tenant_id', '=', tenantId).where('group_id', '=', groupId).where('user_id', 'in', userIds).execute();
}

/** The groups a user belongs to, by name. */
export async function groupsOfUser(db: DbOrTx, tenantId: string, userId: string) {
  return db
    .selectFrom('group_members as m')
    .innerJoin('groups as g', (j) => j.onRef('g.tenant_id', '=', 'm.tenant_id').onRef('g.id', '=', 'm.group_id'))
    .select(['g.id', 'g.name'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.user_id', '=', userId)
    .orderBy('g.name')
    .execute();
}

/** Which of the given ids are users of the tenant. */
export async function existingUserIds(db: DbOrTx, tenantId: string, userIds: readonly string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set();
  const rows = await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', userIds).execute();
  return new Set(rows.map((r) => r.id));
}
