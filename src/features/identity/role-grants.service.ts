import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { RoleGrantTable } from '../../platform/db/schema.js';
import { conflict, forbidden, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import { builtInRoles, isAdminRole, permissionCatalogue, permissionsOf, policyGovernedPermissions, type Permission } from './permissions.js';
import { readSecurityPolicy } from './security-policy.store.js';
import * as grants from './role-grants.store.js';
import * as groups from './groups.store.js';
import * as roles from './roles.store.js';
import * as users from './users.store.js';

/** What a pending grant does once approved: it only ever adds (removals never wait). */
export type GrantChange =
  | { kind: 'user.roles'; roles: string[] }
  | { kind: 'group.roles'; roles: string[] }
  | { kind: 'group.members'; userIds: string[] }
  /** Permissions to add to a custom role. */
  | { kind: 'role.permissions'; permissions: string[] };

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A grant as administrators see it. */
export function grantView(row: RoleGrantTable) {
  return {
    id: row.id, subject: { type: row.subject_type, id: row.subject_id }, change: JSON.parse(row.change) as GrantChange, status: row.status,
    requestedBy: row.requested_by, requestedAt: iso(row.requested_at)!, decidedBy: row.decided_by, decidedAt: iso(row.decided_at), comment: row.comment,
  };
}
export type GrantView = ReturnType<typeof grantView>;

/**
 * Role checks shared by users, groups and custom roles: a role must exist, a caller may hand out only what they
 * hold themselves (no self-escalation), and with four-eyes on, a change granting administration waits for a
 * second administrator, who can never be the requester nor the one receiving it.
 */
export function createRoleGrants(deps: { db: Db; audit: AuditLog; clock: Clock; can: (actor: Actor, permission: string) => boolean | Promise<boolean> }) {
  const { db, audit, clock } = deps;

  /** Refuses role names that are neither built in nor custom roles of the tenant. */
  async function assertRolesExist(trx: DbOrTx, tenantId: string, names: readonly string[]) {
    const custom = await roles.customRoleMap(trx, tenantId);
    const unknown = names.filter((name) => !(name in builtInRoles) && !custom.has(name));
    if (unknown.length > 0) throw invalid('UNKNOWN_ROLE', `No role named ${unknown.join(', ')}. GET /api/v1/roles lists the built-in and custom roles.`);
  }

  /** What a set of roles grants, read inside the caller's transaction. */
  async function permissionsOfRoles(trx: DbOrTx, tenantId: string, names: readonly string[]) {
    return permissionsOf(names, await roles.customRoleMap(trx, tenantId));
  }

  /** Refuses to let the caller hand out permissions their own roles (direct and through groups) do not grant. */
  async function assertCanHandOut(trx: DbOrTx, actor: Actor, permissions: Iterable<string>) {
    // Policy-governed permissions (vault.credentials.use) reach only what access policies grant: handing them out escalates nothing.
    const wanted = [...permissions].filter((p) => !policyGovernedPermissions.has(p));
    let missing: string[];
    if (actor.kind === 'user') {
      // Read in the caller's transaction: a user's roles, direct and through groups.
      const mine = await permissionsOfRoles(trx, actor.tenantId!, (await roles.roleSourcesOf(trx, actor.tenantId!, actor.id)).map((r) => r.role));
      missing = wanted.filter((p) => !mine.has(p as Permission));
    } else {
      // An API client holds exactly its token's scopes, known from this request's token check.
      const held = await Promise.all(wanted.map((p) => deps.can(actor, p)));
      missing = wanted.filter((_, i) => !held[i]);
    }
    if (missing.length > 0) throw forbidden('PERMISSION_NOT_HELD', `You cannot hand out permissions you do not hold yourself: ${missing.sort().join(', ')}.`);
  }

  /**
   * Refuses a caller who does not hold every permission of the catalogue. Whoever configures an identity source
   * (SSO, SCIM) can, through it, log in as or provision anyone: only someone who could grant it all may do that.
   */
  async function assertHoldsEverything(actor: Actor, doing: string) {
    const all = Object.keys(permissionCatalogue);
    const held = await Promise.all(all.map((p) => deps.can(actor, p)));
    const missing = all.filter((_, i) => !held[i]);
    if (missing.length > 0) throw forbidden('PERMISSION_NOT_HELD', `To ${doing} you must hold every permission (as a tenant-admin does): the identity provider could otherwise make anyone anything. Missing: ${missing.join(', ')}.`);
  }

  /** Checks that roles exist and the caller holds everything they grant. */
  async function assertCanGrant(trx: DbOrTx, actor: Actor, names: readonly string[]) {
    if (names.length === 0) return;
    await assertRolesExist(trx, actor.tenantId!, names);
    await assertCanHandOut(trx, actor, await permissionsOfRoles(trx, actor.tenantId!, names));
  }

  /** The roles among these that must wait for a second administrator (none while four-eyes is off). */
  async function needingApproval(trx: DbOrTx, tenantId: string, names: readonly string[]): Promise<string[]> {
    if (names.length === 0 || !(await readSecurityPolicy(trx, tenantId)).fourEyesRoleGrants) return [];
    const custom = await roles.customRoleMap(trx, tenantId);
    return names.filter((name) => isAdminRole(name, custom));
  }

  /** Whether four-eyes is on for the tenant. */
  async function fourEyesOn(trx: DbOrTx, tenantId: string) {
    return (await readSecurityPolicy(trx, tenantId)).fourEyesRoleGrants;
  }

  /** Records a change for a second administrator to approve, in the caller's transaction. */
  async function request(trx: DbOrTx, actor: Actor, subject: { type: RoleGrantTable['subject_type']; id: string }, change: GrantChange) {
    // Four-eyes counts people: an API client acts for someone who could then approve their own request.
    if (actor.kind !== 'user') throw forbidden('FOUR_EYES_USER_REQUIRED', 'With four-eyes on, a change that grants administration is requested by a person logged in, not by an API client.');
    const now = clock.now();
    const row: RoleGrantTable = { tenant_id: actor.tenantId!, id: newId(now), subject_type: subject.type, subject_id: subject.id, change: JSON.stringify(change), status: 'pending', requested_by: actor.id, requested_at: now, decided_by: null, decided_at: null, comment: null };
    await grants.insertRoleGrant(trx, row);
    await audit.append(trx, row.tenant_id, { action: 'role_grant.requested', actor, target: { type: subject.type, id: subject.id }, details: { grantId: row.id, ...change } });
    return grantView(row);
  }

  async function load(trx: DbOrTx, actor: Actor, id: string) {
    const row = isId(id) ? await grants.findRoleGrant(trx, actor.tenantId!, id) : undefined;
    if (!row) throw notFound('ROLE_GRANT_NOT_FOUND', `No role grant ${id} in this tenant.`);
    return row;
  }

  /** Applies an approved change; what vanished meanwhile (a user left the tenant) is skipped. */
  async function apply(trx: DbOrTx, actor: Actor, row: RoleGrantTable) {
    const change = JSON.parse(row.change) as GrantChange;
    const tenantId = row.tenant_id;
    const target = { type: row.subject_type, id: row.subject_id };
    if (change.kind === 'user.roles') {
      await users.addRoles(trx, tenantId, row.subject_id, change.roles);
      await audit.append(trx, tenantId, { action: 'user.updated', actor, target, details: { fields: ['roles'], added: change.roles, grantId: row.id } });
    } else if (change.kind === 'group.roles') {
      await groups.addGroupRoles(trx, tenantId, row.subject_id, change.roles);
      await audit.append(trx, tenantId, { action: 'group.updated', actor, target, details: { fields: ['roles'], added: change.roles, grantId: row.id } });
    } else if (change.kind === 'group.members') {
      const present = await groups.existingUserIds(trx, tenantId, change.userIds);
      await groups.addMembers(trx, tenantId, row.subject_id, change.userIds.filter((id) => present.has(id)));
      await audit.append(trx, tenantId, { action: 'group.members.added', actor, target, details: { userIds: change.userIds, grantId: row.id } });
    } else {
      // Adds to what the role grants now: a permission removed meanwhile stays removed.
      const role = await roles.findCustomRole(trx, tenantId, row.subject_id);
      if (!role) return;
      const permissions = [...new Set([...(JSON.parse(role.permissions) as string[]), ...change.permissions])].sort();
      await roles.updateCustomRole(trx, tenantId, role.id, { description: role.description, permissions: JSON.stringify(permissions) }, clock.now());
      await audit.append(trx, tenantId, { action: 'role.updated', actor, target, details: { name: role.name, added: change.permissions, permissions, grantId: row.id } });
    }
  }

  /** Approves or denies a pending grant; the requester and the grantee may do neither. */
  async function decide(actor: Actor, id: string, decision: 'approved' | 'denied', comment: string | null) {
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      if (actor.kind !== 'user') throw forbidden('FOUR_EYES_USER_REQUIRED', 'A four-eyes grant is decided by a person logged in, not by an API client.');
      if (row.status !== 'pending') throw conflict('ROLE_GRANT_DECIDED', `This grant is already ${row.status}.`);
      if (row.requested_by === actor.id) throw forbidden('SELF_APPROVAL', 'You requested this grant; another administrator must decide it.');
      if (row.subject_type === 'user' && row.subject_id === actor.id) throw forbidden('SELF_APPROVAL', 'This grant is for you; another administrator must decide it.');
      if (row.subject_type === 'group' && (await groups.memberIds(trx, row.tenant_id, row.subject_id)).includes(actor.id)) throw forbidden('SELF_APPROVAL', 'You belong to this group; another administrator must decide it.');
      const change = JSON.parse(row.change) as GrantChange;
      if (change.kind === 'group.members' && change.userIds.includes(actor.id)) throw forbidden('SELF_APPROVAL', 'This grant adds you; another administrator must decide it.');
      if (change.kind === 'role.permissions') {
        const role = await roles.findCustomRole(trx, row.tenant_id, row.subject_id);
        if (role && (await roles.roleSourcesOf(trx, row.tenant_id, actor.id)).some((r) => r.role === role.name)) throw forbidden('SELF_APPROVAL', 'You hold this role; another administrator must decide it.');
      }
      if (decision === 'approved') {
        if (change.kind === 'user.roles' || change.kind === 'group.roles') await assertCanHandOut(trx, actor, await permissionsOfRoles(trx, row.tenant_id, change.roles));
        if (change.kind === 'role.permissions') await assertCanHandOut(trx, actor, change.permissions);
      }
      const now = clock.now();
      if (!(await grants.decideRoleGrant(trx, row.tenant_id, row.id, { status: decision, decided_by: actor.id, decided_at: now, comment }))) throw conflict('ROLE_GRANT_DECIDED', 'This grant was decided by someone else meanwhile.');
      await audit.append(trx, row.tenant_id, { action: decision === 'approved' ? 'role_grant.approved' : 'role_grant.denied', actor, target: { type: row.subject_type, id: row.subject_id }, details: { grantId: row.id, requestedBy: row.requested_by } });
      if (decision === 'approved') await apply(trx, actor, row);
      return grantView((await grants.findRoleGrant(trx, row.tenant_id, row.id))!);
    });
  }

  /** A page of grants, newest first. */
  async function list(actor: Actor, query: { status?: RoleGrantTable['status']; cursor?: string; limit: number }) {
    const rows = await grants.listRoleGrants(db, actor.tenantId!, { status: query.status, before: query.cursor, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    return { grants: page.map(grantView), nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null };
  }

  /** The deactivation step: a leaver's pending grants (requested by them or for them) are cancelled. */
  const cancelOnDeactivation = async (trx: DbOrTx, actor: Actor, tenantId: string, userId: string) => {
    const cancelled = await grants.cancelGrantsOfUser(trx, tenantId, userId, clock.now());
    if (cancelled > 0) await audit.append(trx, tenantId, { action: 'role_grant.cancelled', actor, target: { type: 'user', id: userId }, details: { count: cancelled } });
    return { roleGrantsCancelled: cancelled };
  };

  return {
    cancelOnDeactivation,
    assertHoldsEverything,
    assertRolesExist, assertCanGrant, assertCanHandOut, needingApproval, fourEyesOn, request, list,
    get: async (actor: Actor, id: string) => grantView(await load(db, actor, id)),
    approve: (actor: Actor, id: string, comment?: string) => decide(actor, id, 'approved', comment ?? null),
    deny: (actor: Actor, id: string, comment?: string) => decide(actor, id, 'denied', comment ?? null),
  };
}
export type RoleGrants = ReturnType<typeof createRoleGrants>;
