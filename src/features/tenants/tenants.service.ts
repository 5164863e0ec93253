import { SYSTEM_SCOPE, type Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Signals } from '../../platform/signals/signals.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { TenantTable } from '../../platform/db/schema.js';
import { conflict, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { AuthService } from '../identity/auth.service.js';
import type { CreateTenantInput } from './tenants.schemas.js';
import * as store from './tenants.store.js';

/** A tenant as the operator plane shows it. */
export function toTenantView(row: TenantTable) {
  return { id: row.id, slug: row.slug, name: row.name, status: row.status, createdAt: new Date(row.created_at).toISOString(), updatedAt: new Date(row.updated_at).toISOString() };
}

/** The lookup identity needs for login and activation; a plain read, so identity needs no tenant service. */
export async function findTenantRef(db: DbOrTx, slug: string) {
  const row = await store.findTenantBySlug(db, slug);
  return row && { id: row.id, slug: row.slug, status: row.status };
}

/** Provisioning and lifecycle of tenants: the operator's side of the split of duties. */
export function createTenantService(deps: { db: Db; audit: AuditLog; keyring: Keyring; clock: Clock; identity: Pick<AuthService, 'provisionAdmin' | 'reissueAdminActivation' | 'revokeTenantSessions'>; signals: Pick<Signals, 'publish'> }) {
  const { db, audit, keyring, clock } = deps;

  /** A tenant by slug or id, or TENANT_NOT_FOUND. */
  async function get(db2: DbOrTx, ref: string) {
    const row = isId(ref) ? await store.findTenantById(db2, ref) : await store.findTenantBySlug(db2, ref);
    if (!row) throw notFound('TENANT_NOT_FOUND', `No tenant "${ref}". List tenants with: custos tenant list`);
    return row;
  }

  /** Creates the tenant, its data key and its admin pending activation, all in one transaction. */
  async function create(actor: Actor, input: CreateTenantInput) {
    const taken = () => conflict('TENANT_EXISTS', `A tenant with slug "${input.slug}" already exists; choose another slug.`);
    return db.transaction().execute(async (trx) => {
      if (await store.findTenantBySlug(trx, input.slug)) throw taken();
      const now = clock.now();
      const row: TenantTable = { id: newId(now), slug: input.slug, name: input.name ?? input.slug, status: 'active', created_at: now, updated_at: now };
      // Two concurrent creates of one slug: the loser's insert hits the unique index and answers 409 too.
      await store.insertTenant(trx, row).catch((error) => {
        throw isUniqueViolation(error) ? taken() : error;
      });
      await keyring.createScopeKey(trx, row.id);
      const target = { type: 'tenant', id: row.id };
      await audit.append(trx, row.id, { action: 'tenant.created', actor, target, details: { slug: row.slug } });
      const admin = await deps.identity.provisionAdmin(trx, actor, row, input.adminEmail);
      await audit.append(trx, SYSTEM_SCOPE, { action: 'tenant.created', actor, target, details: { slug: row.slug } });
      return { tenant: toTenantView(row), activation: admin.activation };
    });
  }

  /** Every tenant. */
  async function list() {
    return (await store.listTenants(db)).map(toTenantView);
  }

  /** Moves a tenant to a status (once; a repeat is a no-op) and records it in the tenant's and the system chain. */
  async function changeStatus(actor: Actor, ref: string, status: TenantTable['status']) {
    return db.transaction().execute(async (trx) => {
      const row = await get(trx, ref);
      if (row.status === status) return toTenantView(row);
      const now = clock.now();
      await store.setTenantStatus(trx, row.id, status, now);
      if (status === 'suspended') await deps.identity.revokeTenantSessions(trx, actor, row.id, 'tenant_suspended');
      const action = status === 'suspended' ? 'tenant.suspended' : 'tenant.resumed';
      await deps.signals.publish(trx, { kind: action, tenantId: row.id });
      // Tenant chain first, system chain second: every writer takes the head locks in this order.
      for (const scope of [row.id, SYSTEM_SCOPE]) {
        await audit.append(trx, scope, { action, actor, target: { type: 'tenant', id: row.id }, details: { slug: row.slug } });
      }
      return toTenantView({ ...row, status, updated_at: now });
    });
  }

  /** Refuses every login and token of the tenant: its sessions are revoked now. */
  const suspend = (actor: Actor, ref: string) => changeStatus(actor, ref, 'suspended');
  /** Lets the tenant's users log in again (old sessions stay revoked). */
  const resume = (actor: Actor, ref: string) => changeStatus(actor, ref, 'active');

  /** A new activation token for the tenant's admin while they have not activated; audited in both chains. */
  async function reissueAdminActivation(actor: Actor, ref: string) {
    return db.transaction().execute(async (trx) => {
      const row = await get(trx, ref);
      const issued = await deps.identity.reissueAdminActivation(trx, actor, row);
      await audit.append(trx, SYSTEM_SCOPE, { action: 'auth.activation.issued', actor, target: { type: 'tenant', id: row.id }, details: { slug: row.slug } });
      return { tenant: toTenantView(row), activation: issued.activation };
    });
  }

  /** Destroys the tenant's keys first (crypto-shredding), then every row it owns; the system chain records it. */
  async function remove(actor: Actor, ref: string) {
    const deleted = await db.transaction().execute(async (trx) => {
      const row = await get(trx, ref);
      await keyring.destroyScopeKeys(trx, row.id);
      await store.deleteTenantData(trx, row.id);
      await audit.append(trx, SYSTEM_SCOPE, { action: 'tenant.deleted', actor, target: { type: 'tenant', id: row.id }, details: { slug: row.slug } });
      await deps.signals.publish(trx, { kind: 'tenant.deleted', tenantId: row.id });
      return row;
    });
    keyring.forget(deleted.id);
    return toTenantView(deleted);
  }

  return { create, list, get: (ref: string) => get(db, ref).then(toTenantView), suspend, resume, remove, reissueAdminActivation };
}
export type TenantService = ReturnType<typeof createTenantService>;
