import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';
import { conflict, forbidden, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { AuthService } from './auth.service.js';
import type { Deactivate } from './deactivation.js';
import type { GrantView, RoleGrants } from './role-grants.service.js';
import { roleSourcesOf } from './roles.store.js';
import type { CreateUserInput, ListUsersQuery, PatchUserInput } from './users.schemas.js';
import * as activations from './activation.store.js';
import * as users from './users.store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toView(row: UserTable, roles: string[]) {
  return { id: row.id, username: row.username, email: row.email, displayName: row.display_name, status: row.status, roles, createdAt: iso(row.created_at)!, updatedAt: iso(row.updated_at)!, lastLoginAt: iso(row.last_login_at) };
}

const userNotFound = (id: string) => notFound('USER_NOT_FOUND', `No user ${id} in this tenant.`);

/** User administration within a tenant; every change is audited and deactivation runs the one shared path. */
export function createUserService(deps: { db: Db; audit: AuditLog; clock: Clock; auth: Pick<AuthService, 'issueActivation' | 'tenantOf' | 'permissionsOfRoles'>; can: (actor: Actor, permission: string) => boolean | Promise<boolean>; deactivate: Deactivate; grants: RoleGrants }) {
  const { grants } = deps;
  const { db, audit, clock } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;

  async function load(trx: DbOrTx, actor: Actor, id: string) {
    const row = isId(id) ? await users.findUserById(trx, tenantOf(actor), id) : undefined;
    if (!row) throw userNotFound(id);
    return row;
  }

  /** Refuses a change that would leave the tenant with no active tenant-admin. */
  async function keepAnAdmin(trx: DbOrTx, actor: Actor, row: UserTable, rolesNow: string[], rolesAfter: string[], statusAfter: UserTable['status']) {
    const isAdminNow = row.status === 'active' && rolesNow.includes('tenant-admin');
    const isAdminAfter = statusAfter === 'active' && rolesAfter.includes('tenant-admin');
    if (isAdminNow && !isAdminAfter && (await users.countOtherActiveAdmins(trx, tenantOf(actor), row.id)) === 0) {
      throw conflict('LAST_ADMIN', 'This is the last active tenant-admin; make another user tenant-admin first.');
    }
  }

  /** Creates a user pending activation and answers a one-time activation token (72 h). */
  async function create(actor: Actor, input: CreateUserInput) {
    const tenant = await deps.auth.tenantOf(actor);
    const taken = () => conflict('USER_EXISTS', `A user named ${input.username} already exists in this tenant.`);
    return db.transaction().execute(async (trx) => {
      if (await users.findUserByUsername(trx, tenant.id, input.username)) throw taken();
      const now = clock.now();
      const wanted = [...new Set(input.roles ?? ['user'])].sort();
      await grants.assertCanGrant(trx, actor, wanted);
      const waiting = await grants.needingApproval(trx, tenant.id, wanted);
      const roles = wanted.filter((r) => !waiting.includes(r));
      const row: UserTable = { tenant_id: tenant.id, id: newId(now), username: input.username, email: input.email, display_name: input.displayName ?? null, status: 'pending', password_hash: null, created_at: now, updated_at: now, last_login_at: null, failed_logins: 0, locked_until: null, password_changed_at: null };
      await users.insertUser(trx, row, roles).catch((error) => {
        throw isUniqueViolation(error) ? taken() : error;
      });
      await audit.append(trx, tenant.id, { action: 'user.created', actor, target: { type: 'user', id: row.id }, details: { username: row.username, roles } });
      const pendingGrant = waiting.length > 0 ? await grants.request(trx, actor, { type: 'user', id: row.id }, { kind: 'user.roles', roles: waiting }) : null;
      return { user: toView(row, roles), activation: await deps.auth.issueActivation(trx, tenant, row.id), pendingGrant };
    });
  }

  /** A page of users matching the filters, and the cursor of the next page (null at the end). */
  async function list(actor: Actor, query: ListUsersQuery) {
    const rows = await users.listUsers(db, tenantOf(actor), { q: query.q, status: query.status, role: query.role, after: query.cursor, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    const roles = await users.rolesOfMany(db, tenantOf(actor), page.map((r) => r.id));
    return { users: page.map((r) => toView(r, roles.get(r.id) ?? [])), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }

  /** One user of the caller's tenant; another tenant's id answers 404. */
  async function get(actor: Actor, id: string) {
    const row = await load(db, actor, id);
    return toView(row, await users.rolesOf(db, row.tenant_id, row.id));
  }

  /** What the user's roles grant, directly and through groups, as the permission guard sees it. */
  async function effectivePermissions(actor: Actor, id: string) {
    const row = await load(db, actor, id);
    const sources = (await roleSourcesOf(db, row.tenant_id, row.id)).sort((a, b) => a.role.localeCompare(b.role) || (a.via ?? '').localeCompare(b.via ?? ''));
    const roles = [...new Set(sources.map((s) => s.role))].sort();
    return { userId: row.id, roles, sources, permissions: [...(await deps.auth.permissionsOfRoles(row.tenant_id, roles))].sort() };
  }

  /** Changes profile, roles or status; status inactive runs the deactivation path, active reactivates (no old token revives). */
  async function update(actor: Actor, id: string, patch: PatchUserInput) {
    // Beyond the route's identity.users.write: a status change ends (or revives) a person's access.
    if (patch.status !== undefined && !(await deps.can(actor, 'identity.users.deactivate'))) {
      throw forbidden('FORBIDDEN', 'Changing a status needs the permission identity.users.deactivate, which your roles do not grant.');
    }
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const rolesBefore = await users.rolesOf(trx, row.tenant_id, row.id);
      const wanted = patch.roles ? [...new Set(patch.roles)].sort() : rolesBefore;
      const added = wanted.filter((r) => !rolesBefore.includes(r));
      await grants.assertCanGrant(trx, actor, added);
      // Under four-eyes, administrative roles wait for a second administrator; the rest applies now.
      const waiting = await grants.needingApproval(trx, row.tenant_id, added);
      const rolesAfter = wanted.filter((r) => !waiting.includes(r));
      const statusAfter = patch.status ?? row.status;
      if (patch.status === 'inactive' && row.id === actor.id) throw conflict('CANNOT_DEACTIVATE_SELF', 'You cannot deactivate your own account; ask another administrator.');
      if (patch.status === 'active' && row.status === 'pending') throw conflict('USER_PENDING', 'This user has not activated yet; they become active by activating.');
      await keepAnAdmin(trx, actor, row, rolesBefore, rolesAfter, statusAfter);
      const now = clock.now();
      const target = { type: 'user', id: row.id };
      const changed: string[] = [];
      if (patch.email !== undefined && patch.email !== row.email) changed.push('email');
      if (patch.displayName !== undefined && patch.displayName !== row.display_name) changed.push('displayName');
      if (changed.length > 0) await users.updateUser(trx, row.tenant_id, row.id, { email: patch.email ?? row.email, display_name: patch.displayName === undefined ? row.display_name : patch.displayName }, now);
      if (patch.roles && rolesAfter.join() !== rolesBefore.join()) {
        await users.setRoles(trx, row.tenant_id, row.id, rolesAfter);
        changed.push('roles');
      }
      if (changed.length > 0) await audit.append(trx, row.tenant_id, { action: 'user.updated', actor, target, details: { fields: changed, roles: rolesAfter } });
      if (patch.status === 'inactive' && row.status !== 'inactive') await deps.deactivate(trx, actor, row.tenant_id, row.id, 'deactivated');
      if (patch.status === 'active' && (row.status === 'inactive' || row.status === 'locked')) {
        await users.updateUser(trx, row.tenant_id, row.id, { status: 'active', failed_logins: 0, locked_until: null, deactivation_reason: null }, now);
        await audit.append(trx, row.tenant_id, { action: 'user.reactivated', actor, target });
      }
      const pendingGrant: GrantView | null = waiting.length > 0 ? await grants.request(trx, actor, { type: 'user', id: row.id }, { kind: 'user.roles', roles: waiting }) : null;
      const after = (await users.findUserById(trx, row.tenant_id, row.id))!;
      return { user: toView(after, rolesAfter), pendingGrant };
    });
  }

  /** Deactivates (the shared path) and then removes the user; the username becomes free again. */
  async function remove(actor: Actor, id: string) {
    await db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      if (row.id === actor.id) throw conflict('CANNOT_DEACTIVATE_SELF', 'You cannot delete your own account; ask another administrator.');
      await keepAnAdmin(trx, actor, row, await users.rolesOf(trx, row.tenant_id, row.id), [], 'inactive');
      if (row.status !== 'inactive') await deps.deactivate(trx, actor, row.tenant_id, row.id, 'deleted');
      await users.deleteUser(trx, row.tenant_id, row.id);
      await audit.append(trx, row.tenant_id, { action: 'user.deleted', actor, target: { type: 'user', id: row.id }, details: { username: row.username } });
    });
  }

  /** A new activation token so the user can set a new password (their sessions end when they use it). */
  async function resetPassword(actor: Actor, id: string) {
    const tenant = await deps.auth.tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      if (row.status === 'inactive') throw conflict('USER_INACTIVE', 'Reactivate the user before resetting their password.');
      await activations.voidActivationTokens(trx, row.tenant_id, row.id, clock.now());
      const activation = await deps.auth.issueActivation(trx, tenant, row.id);
      await audit.append(trx, row.tenant_id, { action: 'user.password_reset', actor, target: { type: 'user', id: row.id } });
      return { activation };
    });
  }

  /** The usernames of users of a tenant by id, in the caller's transaction (other features name owners with it). */
  const namesOf = (trx: DbOrTx, tenantId: string, userIds: readonly string[]) => users.usernamesOf(trx, tenantId, userIds);

  return { create, list, get, effectivePermissions, update, remove, resetPassword, namesOf };
}
export type UserService = ReturnType<typeof createUserService>;
