import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db } from '../../platform/db/database.js';
import type { CustomRoleTable } from '../../platform/db/schema.js';
import { conflict, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import { builtInRoles, isAdministrative, permissionCatalogue } from './permissions.js';
import type { RoleGrants } from './role-grants.service.js';
import type { CreateRoleInput, PatchRoleInput } from './roles.schemas.js';
import * as roles from './roles.store.js';
import { cancelGrantsFor } from './role-grants.store.js';

const iso = (ms: number) => new Date(ms).toISOString();
const customView = (row: CustomRoleTable) => ({ id: row.id, name: row.name, builtIn: false, description: row.description, permissions: JSON.parse(row.permissions) as string[], createdAt: iso(row.created_at), updatedAt: iso(row.updated_at) });
const roleExists = (name: string) => conflict('ROLE_EXISTS', `A role named ${name} already exists; choose another name.`);

/** The permission catalogue, the built-in roles and the tenant's custom roles. */
export function createRoleService(deps: { db: Db; audit: AuditLog; clock: Clock; grants: RoleGrants }) {
  const { db, audit, clock, grants } = deps;

  async function load(actor: Actor, id: string, trx = db as Parameters<typeof roles.findCustomRole>[0]) {
    const row = isId(id) ? await roles.findCustomRole(trx, actor.tenantId!, id) : undefined;
    if (!row) throw notFound('ROLE_NOT_FOUND', `No custom role ${id} in this tenant (built-in roles cannot be changed).`);
    return row;
  }

  /** Every role the tenant can grant: built-in ones first, then custom ones by name. */
  async function list(actor: Actor) {
    const builtIn = Object.entries(builtInRoles).map(([name, role]) => ({ id: null, name, builtIn: true, description: role.description, permissions: [...role.permissions].sort(), createdAt: null, updatedAt: null }));
    return [...builtIn, ...(await roles.listCustomRoles(db, actor.tenantId!)).map(customView)];
  }

  /** Creates a custom role; the caller must hold every permission it grants. */
  async function create(actor: Actor, input: CreateRoleInput) {
    if (input.name in builtInRoles) throw roleExists(input.name);
    const permissions = [...new Set(input.permissions)].sort();
    return db.transaction().execute(async (trx) => {
      await grants.assertCanHandOut(trx, actor, permissions);
      const now = clock.now();
      const row: CustomRoleTable = { tenant_id: actor.tenantId!, id: newId(now), name: input.name, description: input.description ?? null, permissions: JSON.stringify(permissions), created_at: now, updated_at: now };
      await roles.insertCustomRole(trx, row).catch((error) => {
        throw isUniqueViolation(error) ? roleExists(input.name) : error;
      });
      await audit.append(trx, row.tenant_id, { action: 'role.created', actor, target: { type: 'role', id: row.id }, details: { name: row.name, permissions } });
      return customView(row);
    });
  }

  /**
   * Changes a custom role. Removing permissions applies at once; with four-eyes on, adding an administrative
   * permission to a role waits for a second administrator (answered as pendingGrant).
   */
  async function update(actor: Actor, id: string, patch: PatchRoleInput) {
    return db.transaction().execute(async (trx) => {
      const row = await load(actor, id, trx);
      const before = JSON.parse(row.permissions) as string[];
      const after = patch.permissions ? [...new Set(patch.permissions)].sort() : before;
      const added = after.filter((p) => !before.includes(p));
      await grants.assertCanHandOut(trx, actor, added);
      const deferred = added.length > 0 && isAdministrative(added) && (await grants.fourEyesOn(trx, row.tenant_id));
      const applied = deferred ? after.filter((p) => before.includes(p)) : after;
      const description = patch.description === undefined ? row.description : patch.description;
      const now = clock.now();
      await roles.updateCustomRole(trx, row.tenant_id, row.id, { description, permissions: JSON.stringify(applied) }, now);
      await audit.append(trx, row.tenant_id, { action: 'role.updated', actor, target: { type: 'role', id: row.id }, details: { name: row.name, permissions: applied } });
      const pendingGrant = deferred ? await grants.request(trx, actor, { type: 'role', id: row.id }, { kind: 'role.permissions', permissions: added }) : null;
      return { role: customView({ ...row, description, permissions: JSON.stringify(applied), updated_at: now }), pendingGrant };
    });
  }

  /** Deletes a custom role that no user or group holds any more. */
  async function remove(actor: Actor, id: string) {
    await db.transaction().execute(async (trx) => {
      const row = await load(actor, id, trx);
      const held = await roles.countGrants(trx, row.tenant_id, row.name);
      if (held.users + held.groups > 0) throw conflict('ROLE_IN_USE', `The role ${row.name} is held by ${held.users} user(s) and ${held.groups} group(s); take it away from them first.`);
      await roles.deleteCustomRole(trx, row.tenant_id, row.id);
      await cancelGrantsFor(trx, row.tenant_id, 'role', row.id, clock.now());
      await audit.append(trx, row.tenant_id, { action: 'role.deleted', actor, target: { type: 'role', id: row.id }, details: { name: row.name } });
    });
  }

  /** The published permission catalogue. */
  const catalogue = () => Object.entries(permissionCatalogue).map(([name, description]) => ({ name, description }));

  return { list, get: async (actor: Actor, id: string) => customView(await load(actor, id)), create, update, remove, catalogue };
}
export type RoleService = ReturnType<typeof createRoleService>;
