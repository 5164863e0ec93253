import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { GroupTable } from '../../platform/db/schema.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { GrantView, RoleGrants } from './role-grants.service.js';
import type { CreateGroupInput, ListGroupsQuery, PatchGroupInput } from './groups.schemas.js';
import * as groups from './groups.store.js';
import { cancelGrantsFor } from './role-grants.store.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** Deletes a group, cancels grants waiting for it, and audits how many members lost its roles (also used by SCIM). */
export async function deleteGroupAudited(trx: DbOrTx, deps: { audit: AuditLog; clock: Clock }, actor: Actor, row: GroupTable): Promise<void> {
  const memberCount = (await groups.memberIds(trx, row.tenant_id, row.id)).length;
  await groups.deleteGroup(trx, row.tenant_id, row.id);
  await cancelGrantsFor(trx, row.tenant_id, 'group', row.id, deps.clock.now());
  await deps.audit.append(trx, row.tenant_id, { action: 'group.deleted', actor, target: { type: 'group', id: row.id }, details: { name: row.name, members: memberCount } });
}
const nameTaken = (name: string) => conflict('GROUP_EXISTS', `A group named ${name} already exists in this tenant.`);

/** Groups: members receive every role the group holds; the same role checks and four-eyes as direct grants. */
export function createGroupService(deps: { db: Db; audit: AuditLog; clock: Clock; grants: RoleGrants }) {
  const { db, audit, clock, grants } = deps;

  async function load(trx: DbOrTx, actor: Actor, id: string) {
    const row = isId(id) ? await groups.findGroup(trx, actor.tenantId!, id) : undefined;
    if (!row) throw notFound('GROUP_NOT_FOUND', `No group ${id} in this tenant.`);
    return row;
  }

  async function view(trx: DbOrTx, row: GroupTable, withMembers = true) {
    const members = withMembers ? (await groups.members(trx, row.tenant_id, row.id)).map((m) => ({ id: m.id, username: m.username, displayName: m.display_name })) : undefined;
    return { id: row.id, name: row.name, description: row.description, externalId: row.external_id, roles: await groups.groupRoles(trx, row.tenant_id, row.id), members, createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) };
  }

  /** Refuses user ids that are not users of the tenant (another tenant's ids included). */
  async function assertUsers(trx: DbOrTx, tenantId: string, ids: readonly string[]) {
    const present = await groups.existingUserIds(trx, tenantId, ids.filter(isId));
    const unknown = ids.filter((id) => !present.has(id));
    if (unknown.length > 0) throw invalid('UNKNOWN_USER', `No user ${unknown.join(', ')} in this tenant.`);
  }

  /** Grants roles to a group now, or (administrative ones under four-eyes) as a pending grant. */
  async function grantRoles(trx: DbOrTx, actor: Actor, row: GroupTable, wanted: string[]): Promise<GrantView | null> {
    await grants.assertCanGrant(trx, actor, wanted);
    const waiting = await grants.needingApproval(trx, row.tenant_id, wanted);
    await groups.addGroupRoles(trx, row.tenant_id, row.id, wanted.filter((r) => !waiting.includes(r)));
    return waiting.length > 0 ? grants.request(trx, actor, { type: 'group', id: row.id }, { kind: 'group.roles', roles: waiting }) : null;
  }

  /** Adds members now, or as a pending grant when the group confers administration under four-eyes. */
  async function addMembersTo(trx: DbOrTx, actor: Actor, row: GroupTable, userIds: string[]): Promise<GrantView | null> {
    await assertUsers(trx, row.tenant_id, userIds);
    const current = new Set(await groups.memberIds(trx, row.tenant_id, row.id));
    const fresh = [...new Set(userIds)].filter((id) => !current.has(id));
    if (fresh.length === 0) return null;
    if ((await grants.needingApproval(trx, row.tenant_id, await groups.groupRoles(trx, row.tenant_id, row.id))).length > 0) {
      return grants.request(trx, actor, { type: 'group', id: row.id }, { kind: 'group.members', userIds: fresh });
    }
    await groups.addMembers(trx, row.tenant_id, row.id, fresh);
    await audit.append(trx, row.tenant_id, { action: 'group.members.added', actor, target: { type: 'group', id: row.id }, details: { userIds: fresh } });
    return null;
  }

  /** Creates a group, optionally with roles and members. */
  async function create(actor: Actor, input: CreateGroupInput) {
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row: GroupTable = { tenant_id: actor.tenantId!, id: newId(now), name: input.name, description: input.description ?? null, external_id: null, created_at: now, updated_at: now };
      await groups.insertGroup(trx, row).catch((error) => {
        throw isUniqueViolation(error) ? nameTaken(input.name) : error;
      });
      const roleGrant = await grantRoles(trx, actor, row, [...new Set(input.roles ?? [])].sort());
      await audit.append(trx, row.tenant_id, { action: 'group.created', actor, target: { type: 'group', id: row.id }, details: { name: row.name, roles: await groups.groupRoles(trx, row.tenant_id, row.id) } });
      // Members join after the roles are settled, so four-eyes sees what the group confers.
      const memberGrant = await addMembersTo(trx, actor, row, input.members ?? []);
      return { group: await view(trx, row), pendingGrant: roleGrant ?? memberGrant };
    });
  }

  /** A page of groups (without members), and the next cursor. */
  async function list(actor: Actor, query: ListGroupsQuery) {
    const rows = await groups.listGroups(db, actor.tenantId!, { q: query.q, after: query.cursor, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    return { groups: await Promise.all(page.map((row) => view(db, row, false))), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }

  /** Changes name, description or (replacing them) roles; taking roles away applies at once. */
  async function update(actor: Actor, id: string, patch: PatchGroupInput) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const now = clock.now();
      const fields: string[] = [];
      if ((patch.name !== undefined && patch.name !== row.name) || patch.description !== undefined) {
        const changes = { name: patch.name ?? row.name, description: patch.description === undefined ? row.description : patch.description };
        await groups.updateGroup(trx, row.tenant_id, row.id, changes, now).catch((error) => {
          throw isUniqueViolation(error) ? nameTaken(changes.name) : error;
        });
        fields.push(...(patch.name !== undefined ? ['name'] : []), ...(patch.description !== undefined ? ['description'] : []));
      }
      let pendingGrant: GrantView | null = null;
      if (patch.roles) {
        const before = await groups.groupRoles(trx, row.tenant_id, row.id);
        const wanted = [...new Set(patch.roles)];
        await groups.removeGroupRoles(trx, row.tenant_id, row.id, before.filter((r) => !wanted.includes(r)));
        pendingGrant = await grantRoles(trx, actor, row, wanted.filter((r) => !before.includes(r)));
        fields.push('roles');
      }
      const after = (await groups.findGroup(trx, row.tenant_id, row.id))!;
      const shown = await view(trx, after);
      if (fields.length > 0) await audit.append(trx, row.tenant_id, { action: 'group.updated', actor, target: { type: 'group', id: row.id }, details: { fields, name: after.name, roles: shown.roles } });
      return { group: shown, pendingGrant };
    });
  }

  /** Deletes a group; its members lose the roles it conferred on their next request. */
  async function remove(actor: Actor, id: string) {
    await db.transaction().execute(async (trx) => {
      await deleteGroupAudited(trx, deps, actor, await load(trx, actor, id));
    });
  }

  /** Adds members (existing ones are left as they are). */
  async function addMembers(actor: Actor, id: string, userIds: string[]) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const pendingGrant = await addMembersTo(trx, actor, row, userIds);
      return { group: await view(trx, row), pendingGrant };
    });
  }

  /** Removes one member; they lose the group's roles on their next request. */
  async function removeMember(actor: Actor, id: string, userId: string) {
    await db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      if (!(await groups.memberIds(trx, row.tenant_id, row.id)).includes(userId)) throw notFound('MEMBER_NOT_FOUND', `User ${userId} is not a member of this group.`);
      await groups.removeMembers(trx, row.tenant_id, row.id, [userId]);
      await audit.append(trx, row.tenant_id, { action: 'group.members.removed', actor, target: { type: 'group', id: row.id }, details: { userIds: [userId] } });
    });
  }

  return { create, list, get: async (actor: Actor, id: string) => view(db, await load(db, actor, id)), update, remove, addMembers, removeMember };
}
export type GroupService = ReturnType<typeof createGroupService>;
