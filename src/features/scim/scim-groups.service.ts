import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { GroupTable } from '../../platform/db/schema.js';
import { notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import * as groups from '../identity/groups.store.js';
import { deleteGroupAudited } from '../identity/groups.service.js';
import { applyGroupPatch, stateOfGroupResource, type GroupState } from './scim-group-attributes.js';
import { scimError } from './scim-protocol.js';
import type { ScimGroupInput, ScimListQuery, ScimPatchInput, ScimProjection } from './scim.schemas.js';
import { groupResource, listResponse, project, wants } from './scim-views.js';
import * as store from './scim.store.js';

const taken = (name: string) => scimError('conflict', 'uniqueness', 'GROUP_EXISTS', `A group named ${name} already exists in this tenant.`);

/**
 * Groups through SCIM. The identity provider owns names and membership; the roles a group confers are managed
 * in Custos. Membership changes apply at once, without four-eyes: the directory is the source of truth for who
 * belongs, and an administrator already decided what the group grants. Members gain or lose the group's roles
 * on their next request.
 */
export function createScimGroups(deps: { db: Db; audit: AuditLog; clock: Clock; baseUrl: string }) {
  const { db, audit, clock } = deps;

  async function load(trx: DbOrTx, actor: Actor, id: string) {
    const row = isId(id) ? await groups.findGroup(trx, actor.tenantId!, id) : undefined;
    if (!row) throw notFound('GROUP_NOT_FOUND', `No group ${id} in this tenant.`);
    return row;
  }

  async function view(trx: DbOrTx, row: GroupTable, projection: ScimProjection = {}) {
    // Entra ID asks without members: a large group's members are then never read.
    const members = wants(projection, 'members') ? await groups.members(trx, row.tenant_id, row.id) : null;
    return project(groupResource(row, members, deps.baseUrl), projection);
  }

  /** Refuses member ids that are not users of this tenant (another tenant's ids included): nothing is written. */
  async function assertUsers(trx: DbOrTx, tenantId: string, ids: readonly string[]) {
    const present = await groups.existingUserIds(trx, tenantId, ids.filter(isId));
    const unknown = ids.filter((id) => !present.has(id));
    if (unknown.length > 0) throw scimError('invalid', 'invalidValue', 'UNKNOWN_USER', `members: no user ${unknown.slice(0, 5).join(', ')} in this tenant.`);
  }

  /** Writes the differences between two states, each kind of change audited once. */
  async function save(trx: DbOrTx, actor: Actor, row: GroupTable, before: GroupState, after: GroupState) {
    const now = clock.now();
    const target = { type: 'group', id: row.id };
    const fields = [...(after.displayName !== before.displayName ? ['displayName'] : []), ...(after.externalId !== before.externalId ? ['externalId'] : [])];
    const previous = new Set(before.members);
    const added = after.members.filter((id) => !previous.has(id));
    const kept = new Set(after.members);
    const removed = before.members.filter((id) => !kept.has(id));
    await assertUsers(trx, row.tenant_id, added);
    if (fields.length > 0 || added.length > 0 || removed.length > 0) {
      await groups.updateGroup(trx, row.tenant_id, row.id, { name: after.displayName, external_id: after.externalId }, now).catch((error) => {
        throw isUniqueViolation(error) ? taken(after.displayName) : error;
      });
    }
    if (fields.length > 0) {
      await audit.append(trx, row.tenant_id, { action: 'group.updated', actor, target, details: { fields, name: after.displayName, roles: await groups.groupRoles(trx, row.tenant_id, row.id) } });
    }
    if (added.length > 0) {
      await groups.addMembers(trx, row.tenant_id, row.id, added);
      await audit.append(trx, row.tenant_id, { action: 'group.members.added', actor, target, details: { userIds: added } });
    }
    if (removed.length > 0) {
      await groups.removeMembers(trx, row.tenant_id, row.id, removed);
      await audit.append(trx, row.tenant_id, { action: 'group.members.removed', actor, target, details: { userIds: removed } });
    }
    return (await groups.findGroup(trx, row.tenant_id, row.id))!;
  }

  /** POST /Groups: a group with no roles yet (an administrator gives it roles in Custos) and its members. */
  async function create(actor: Actor, input: ScimGroupInput, projection: ScimProjection = {}) {
    const state = stateOfGroupResource(input);
    return db.transaction().execute(async (trx) => {
      const now = clock.now();
      const row: GroupTable = { tenant_id: actor.tenantId!, id: newId(now), name: state.displayName, description: null, external_id: state.externalId, created_at: now, updated_at: now };
      await assertUsers(trx, row.tenant_id, state.members);
      await groups.insertGroup(trx, row).catch((error) => {
        throw isUniqueViolation(error) ? taken(state.displayName) : error;
      });
      await audit.append(trx, row.tenant_id, { action: 'group.created', actor, target: { type: 'group', id: row.id }, details: { name: row.name, roles: [], externalId: row.external_id } });
      if (state.members.length > 0) {
        await groups.addMembers(trx, row.tenant_id, row.id, state.members);
        await audit.append(trx, row.tenant_id, { action: 'group.members.added', actor, target: { type: 'group', id: row.id }, details: { userIds: state.members } });
      }
      return view(trx, row, projection);
    });
  }

  /** GET /Groups/{id}; another tenant's id answers 404. */
  async function get(actor: Actor, id: string, projection: ScimProjection) {
    return view(db, await load(db, actor, id), projection);
  }

  /** GET /Groups: a filtered page in creation order, as a ListResponse. */
  async function list(actor: Actor, query: ScimListQuery) {
    const { total, rows } = await store.findGroups(db, actor.tenantId!, query.filter ?? [], { offset: query.startIndex - 1, limit: query.count });
    return listResponse(await Promise.all(rows.map((row) => view(db, row, query))), total, query.startIndex);
  }

  async function current(trx: DbOrTx, row: GroupTable): Promise<GroupState> {
    return { displayName: row.name, externalId: row.external_id, members: await groups.memberIds(trx, row.tenant_id, row.id) };
  }

  /** PUT /Groups/{id}: replaces name, external id and the whole member list. */
  async function replace(actor: Actor, id: string, input: ScimGroupInput, projection: ScimProjection) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      return view(trx, await save(trx, actor, row, await current(trx, row), stateOfGroupResource(input)), projection);
    });
  }

  /** PATCH /Groups/{id}: members add/remove (also members[value eq "id"]), displayName and externalId. */
  async function patch(actor: Actor, id: string, input: ScimPatchInput, projection: ScimProjection) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const before = await current(trx, row);
      return view(trx, await save(trx, actor, row, before, applyGroupPatch(before, input.Operations)), projection);
    });
  }

  /** DELETE /Groups/{id}: the group goes with its memberships and roles; members lose those roles at once. */
  async function remove(actor: Actor, id: string) {
    await db.transaction().execute(async (trx) => {
      await deleteGroupAudited(trx, { audit, clock }, actor, await load(trx, actor, id));
    });
  }

  return { create, get, list, replace, patch, remove };
}
export type ScimGroups = ReturnType<typeof createScimGroups>;
