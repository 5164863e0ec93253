import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';
import { conflict, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { Deactivate } from '../identity/deactivation.js';
import * as users from '../identity/users.store.js';
import { scimError } from './scim-protocol.js';
import { applyUserPatch, stateOfResource, stateOfRow, type UserState } from './scim-user-attributes.js';
import type { ScimListQuery, ScimPatchInput, ScimProjection, ScimUserInput } from './scim.schemas.js';
import { listResponse, project, userResource, wants } from './scim-views.js';
import * as store from './scim.store.js';

/** The deactivation reason SCIM passes to the one deactivation path (audited as user.deactivated). */
export const SCIM_REASON = 'scim';

const taken = (userName: string) => scimError('conflict', 'uniqueness', 'USER_EXISTS', `A user named ${userName} already exists in this tenant.`);
const profileFields = [['userName', 'username'], ['email', 'email'], ['displayName', 'display_name'], ['givenName', 'given_name'], ['familyName', 'family_name'], ['externalId', 'external_id']] as const;

/**
 * Users through SCIM: the identity provider creates active users without a local password (they sign in
 * through SSO; an administrator can still issue an activation), changes them, and deactivates or deletes
 * them through the one deactivation path, so every session ends on its next request.
 */
export function createScimUsers(deps: { db: Db; audit: AuditLog; clock: Clock; deactivate: Deactivate; baseUrl: string }) {
  const { db, audit, clock } = deps;

  async function load(trx: DbOrTx, actor: Actor, id: string) {
    const row = isId(id) ? await users.findUserById(trx, actor.tenantId!, id) : undefined;
    if (!row) throw notFound('USER_NOT_FOUND', `No user ${id} in this tenant.`);
    return row;
  }

  async function view(trx: DbOrTx, row: UserTable, projection: ScimProjection = {}) {
    const groups = wants(projection, 'groups') ? (await store.groupsOfUsers(trx, row.tenant_id, [row.id])).get(row.id)! : [];
    return project(userResource(row, groups, deps.baseUrl), projection);
  }

  /** Refuses to deactivate the tenant's last active tenant-admin: nobody could administer the tenant any more. */
  async function keepAnAdmin(trx: DbOrTx, row: UserTable) {
    if (row.status !== 'active' || !(await users.rolesOf(trx, row.tenant_id, row.id)).includes('tenant-admin')) return;
    if ((await users.countOtherActiveAdmins(trx, row.tenant_id, row.id)) === 0) {
      throw conflict('LAST_ADMIN', 'This is the last active tenant-admin of the tenant; make another user tenant-admin in Custos first.');
    }
  }

  /** Writes the differences between two states, each audited; active false runs the deactivation path. */
  async function save(trx: DbOrTx, actor: Actor, row: UserTable, before: UserState, after: UserState) {
    const now = clock.now();
    const changed = profileFields.filter(([field]) => before[field] !== after[field]);
    if (after.userName !== before.userName && (await users.findUserByUsername(trx, row.tenant_id, after.userName))) throw taken(after.userName);
    if (changed.length > 0) {
      const changes = Object.fromEntries(changed.map(([field, column]) => [column, after[field]]));
      await store.updateUserAttributes(trx, row.tenant_id, row.id, changes, now).catch((error) => {
        throw isUniqueViolation(error) ? taken(after.userName) : error;
      });
      await audit.append(trx, row.tenant_id, { action: 'user.updated', actor, target: { type: 'user', id: row.id }, details: { fields: changed.map(([field]) => field), username: after.userName } });
    }
    if (before.active && !after.active) {
      await keepAnAdmin(trx, row);
      await deps.deactivate(trx, actor, row.tenant_id, row.id, SCIM_REASON);
    }
    if (!before.active && after.active) {
      // The directory revives only whom it deactivated: an administrator's or the inactivity rule's decision stands.
      if (row.status === 'inactive' && row.deactivation_reason !== SCIM_REASON) {
        throw conflict('DEACTIVATED_IN_CUSTOS', `This user was deactivated in Custos (reason: ${row.deactivation_reason ?? 'an administrator'}), not by the directory; a tenant administrator reactivates them in Custos.`);
      }
      // No old session or token revives: deactivation revoked them, and reactivation issues none.
      await users.updateUser(trx, row.tenant_id, row.id, { status: 'active', failed_logins: 0, locked_until: null, deactivation_reason: null }, now);
      await audit.append(trx, row.tenant_id, { action: 'user.reactivated', actor, target: { type: 'user', id: row.id } });
    }
    return (await users.findUserById(trx, row.tenant_id, row.id))!;
  }

  /** POST /Users: an active user without a password (or, with active false, one deactivated at once). */
  async function create(actor: Actor, input: ScimUserInput, projection: ScimProjection = {}) {
    const state = stateOfResource(input);
    const tenantId = actor.tenantId!;
    return db.transaction().execute(async (trx) => {
      if (await users.findUserByUsername(trx, tenantId, state.userName)) throw taken(state.userName);
      const now = clock.now();
      const row: UserTable = {
        tenant_id: tenantId, id: newId(now), username: state.userName, email: state.email, display_name: state.displayName, status: 'active', password_hash: null,
        created_at: now, updated_at: now, last_login_at: null, failed_logins: 0, locked_until: null, password_changed_at: null,
        external_id: state.externalId, given_name: state.givenName, family_name: state.familyName,
      };
      await users.insertUser(trx, row, ['user']).catch((error) => {
        throw isUniqueViolation(error) ? taken(state.userName) : error;
      });
      await audit.append(trx, tenantId, { action: 'user.created', actor, target: { type: 'user', id: row.id }, details: { username: row.username, roles: ['user'], externalId: state.externalId } });
      if (!state.active) await deps.deactivate(trx, actor, tenantId, row.id, SCIM_REASON);
      return view(trx, (await users.findUserById(trx, tenantId, row.id))!, projection);
    });
  }

  /** GET /Users/{id}; another tenant's id answers 404. */
  async function get(actor: Actor, id: string, projection: ScimProjection) {
    return view(db, await load(db, actor, id), projection);
  }

  /** GET /Users: a filtered page in creation order, as a ListResponse. */
  async function list(actor: Actor, query: ScimListQuery) {
    const tenantId = actor.tenantId!;
    const { total, rows } = await store.findUsers(db, tenantId, query.filter ?? [], { offset: query.startIndex - 1, limit: query.count });
    const groups = wants(query, 'groups') ? await store.groupsOfUsers(db, tenantId, rows.map((r) => r.id)) : new Map<string, []>();
    return listResponse(rows.map((row) => project(userResource(row, groups.get(row.id) ?? [], deps.baseUrl), query)), total, query.startIndex);
  }

  /** PUT /Users/{id}: replaces what SCIM manages (see stateOfResource for what omission means). */
  async function replace(actor: Actor, id: string, input: ScimUserInput, projection: ScimProjection) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const before = stateOfRow(row);
      return view(trx, await save(trx, actor, row, before, stateOfResource(input, before)), projection);
    });
  }

  /** PATCH /Users/{id}: RFC 7644 add/replace/remove, in the forms Okta and Entra ID send. */
  async function patch(actor: Actor, id: string, input: ScimPatchInput, projection: ScimProjection) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const before = stateOfRow(row);
      return view(trx, await save(trx, actor, row, before, applyUserPatch(before, input.Operations)), projection);
    });
  }

  /** DELETE /Users/{id}: the deactivation path first (sessions end), then the user and what belongs to them go. */
  async function remove(actor: Actor, id: string) {
    await db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      await keepAnAdmin(trx, row);
      if (row.status !== 'inactive') await deps.deactivate(trx, actor, row.tenant_id, row.id, SCIM_REASON);
      await users.deleteUser(trx, row.tenant_id, row.id);
      await audit.append(trx, row.tenant_id, { action: 'user.deleted', actor, target: { type: 'user', id: row.id }, details: { username: row.username } });
    });
  }

  return { create, get, list, replace, patch, remove };
}
export type ScimUsers = ReturnType<typeof createScimUsers>;
