import type { DbOrTx } from '../../platform/db/database.js';
import type { CustomRoleTable } from '../../platform/db/schema.js';
import type { CustomRoles } from './permissions.js';

/** Stores a new custom role. */
export async function insertCustomRole(db: DbOrTx, row: CustomRoleTable): Promise<void> {
  await db.insertInto('custom_roles').values(row).execute();
}

/** A tenant's custom roles in name order. */
export async function listCustomRoles(db: DbOrTx, tenantId: string) {
  return db.selectFrom('custom_roles').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
}

/** One custom role by id. */
export async function findCustomRole(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('custom_roles').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** A tenant's custom roles as the permission check reads them: name → permissions. */
export async function customRoleMap(db: DbOrTx, tenantId: string): Promise<CustomRoles> {
  const rows = await db.selectFrom('custom_roles').select(['name', 'permissions']).where('tenant_id', '=', tenantId).execute();
  return new Map(rows.map((r) => [r.name, JSON.parse(r.permissions) as string[]]));
}

/** Changes a custom role's description or permissions (its name is permanent: grants refer to it). */
export async function updateCustomRole(db: DbOrTx, tenantId: string, id: string, changes: Pick<CustomRoleTable, 'description' | 'permissions'>, now: number): Promise<void> {
  await db.updateTable('custom_roles').set({ ...changes, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Removes a custom role. */
export async function deleteCustomRole(db: DbOrTx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('custom_roles').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** How many users and groups hold a role directly. */
export async function countGrants(db: DbOrTx, tenantId: string, role: string): Promise<{ users: number; groups: number }> {
  const users = await db.selectFrom('user_roles').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('role', '=', role).executeTakeFirstOrThrow();
  const groups = await db.selectFrom('group_roles').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('role', '=', role).executeTakeFirstOrThrow();
  return { users: Number(users.n), groups: Number(groups.n) };
}

/** A user's effective roles with where each comes from: granted directly, or through a named group. */
export async function roleSourcesOf(db: DbOrTx, tenantId: string, userId: string): Promise<{ role: string; via: string | null }[]> {
  const direct = await db.selectFrom('user_roles').select('role').where('tenant_id', '=', tenantId).where('user_id', '=', userId).execute();
  const viaGroups = await db
    .selectFrom('group_members as m')
    .innerJoin('group_roles as r', (j) => j.onRef('r.tenant_id', '=', 'm.tenant_id').onRef('r.group_id', '=', 'm.group_id'))
    .innerJoin('groups as g', (j) => j.onRef('g.tenant_id', '=', 'm.tenant_id').onRef('g.id', '=', 'm.group_id'))
    .select(['r.role', 'g.name'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.user_id', '=', userId)
    .execute();
  return [...direct.map((r) => ({ role: r.role, via: null })), ...viaGroups.map((r) => ({ role: r.role, via: r.name }))];
}
