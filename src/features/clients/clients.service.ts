import { randomBytes } from 'node:crypto';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import { generateToken, hashToken } from '../../platform/crypto/tokens.js';
import { conflict, forbidden, invalid, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/log.js';
import type { ApiClientTable } from '../../platform/db/schema.js';
import { permissionCatalogue } from '../identity/permissions.js';
import { CLIENT_ID_PREFIX, createClientTokens } from './client-tokens.js';
import type { CreateClientInput, ListClientsQuery, PatchClientInput } from './clients.schemas.js';
import * as store from './clients.store.js';

const SECRET_PREFIX = 'ccs_';
const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

function toView(row: ApiClientTable) {
  return {
    id: row.id, clientId: row.client_id, name: row.name, scopes: JSON.parse(row.scopes) as string[], allowedCidrs: JSON.parse(row.allowed_cidrs) as string[],
    expiresAt: isoOrNull(row.expires_at), status: row.status, createdBy: row.created_by, createdAt: iso(row.created_at), updatedAt: iso(row.updated_at),
    secretRotatedAt: iso(row.secret_rotated_at), lastTokenAt: isoOrNull(row.last_token_at),
  };
}

const clientNotFound = (id: string) => notFound('CLIENT_NOT_FOUND', `No API client ${id} in this tenant.`);
const nameTaken = (name: string) => conflict('CLIENT_NAME_TAKEN', `An API client named ${name} already exists in this tenant; choose another name.`);

/** Refuses scopes that name no permission of the catalogue. */
function assertKnownScopes(scopes: readonly string[]) {
  const unknown = scopes.filter((scope) => !(scope in permissionCatalogue));
  if (unknown.length > 0) {
    throw invalid('UNKNOWN_SCOPE', `Unknown scope ${unknown.join(', ')}: a scope is a permission name such as identity.users.read (GET /api/v1/permissions lists them).`);
  }
}

/** A future expiry in epoch ms, or null; a time already past is refused. */
function expiryOf(value: string | null | undefined, now: number): number | null {
  if (value === undefined || value === null) return null;
  const at = Date.parse(value);
  if (at <= now) throw invalid('CLIENT_EXPIRY_PAST', `expiresAt ${value} is not in the future; choose a later time or leave it out.`);
  return at;
}

/**
 * API clients of a tenant (applications that call /api/v1 with the OAuth2 client credentials grant): CRUD,
 * secret rotation, token issuance and the per-request token check. A caller may only give a client scopes it
 * holds itself; every change is audited.
 */
export function createClientService(deps: {
  db: Db;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /** The database's change marker: lets token checks skip their query while nothing was committed. */
  changeMarker: () => string | null;
  /** Whether a user holds a permission (identity's check); clients are answered from their token's scopes. */
  hasPermission: (actor: Actor, permission: string) => boolean | Promise<boolean>;
}) {
  const { db, audit, clock } = deps;
  const tokens = createClientTokens(deps);
  const tenantOf = (actor: Actor) => actor.tenantId!;
  const holds = (actor: Actor, permission: string) => (actor.kind === 'client' ? tokens.hasPermission(actor, permission) : deps.hasPermission(actor, permission));

  /** Which of these scopes the caller holds; asked before any transaction opens (the check may read the database). */
  async function heldOf(actor: Actor, scopes: readonly string[]): Promise<Set<string>> {
    const answers = await Promise.all(scopes.map(async (scope) => [scope, await holds(actor, scope)] as const));
    return new Set(answers.filter(([, ok]) => ok).map(([scope]) => scope));
  }

  /** Refuses when the caller lacks any of the scopes: nobody hands a client more than they hold. */
  function assertHeld(scopes: readonly string[], held: ReadonlySet<string>, doing: string) {
    const missing = scopes.filter((scope) => !held.has(scope));
    if (missing.length > 0) {
      throw forbidden('SCOPE_NOT_HELD', `You cannot ${doing} with ${missing.join(', ')}: your own roles do not grant it. Ask an administrator who holds it.`);
    }
  }

  async function load(trx: DbOrTx, actor: Actor, id: string) {
    const row = isId(id) ? await store.findClient(trx, tenantOf(actor), id) : undefined;
    if (!row) throw clientNotFound(id);
    return row;
  }

  /** Creates a client; answers it with its secret, shown this once (only its hash is kept). */
  async function create(actor: Actor, input: CreateClientInput) {
    const tenantId = tenantOf(actor);
    assertKnownScopes(input.scopes);
    assertHeld(input.scopes, await heldOf(actor, input.scopes), 'create a client');
    const now = clock.now();
    const secret = generateToken(SECRET_PREFIX);
    const row: ApiClientTable = {
      tenant_id: tenantId, id: newId(now), client_id: `${CLIENT_ID_PREFIX}${randomBytes(16).toString('base64url')}`, name: input.name,
      scopes: JSON.stringify(input.scopes), allowed_cidrs: JSON.stringify(input.allowedCidrs ?? []), expires_at: expiryOf(input.expiresAt, now),
      status: 'active', secret_hash: hashToken(secret), secret_rotated_at: now, created_by: actor.id, created_at: now, updated_at: now, last_token_at: null,
    };
    await db.transaction().execute(async (trx) => {
      await store.insertClient(trx, row).catch((error) => {
        throw isUniqueViolation(error) ? nameTaken(input.name) : error;
      });
      await audit.append(trx, tenantId, {
        action: 'client.created', actor, target: { type: 'client', id: row.id },
        details: { name: row.name, clientId: row.client_id, scopes: input.scopes, allowedCidrs: input.allowedCidrs ?? [], expiresAt: isoOrNull(row.expires_at) },
      });
    });
    return { client: toView(row), clientSecret: secret };
  }

  /** The tenant's clients in creation order, optionally only those of one status. */
  async function list(actor: Actor, query: ListClientsQuery) {
    return (await store.listClients(db, tenantOf(actor), { status: query.status })).map(toView);
  }

  /** One client of the caller's tenant; another tenant's id answers 404. */
  async function get(actor: Actor, id: string) {
    return toView(await load(db, actor, id));
  }

  /** Changes the given fields; added scopes must be held by the caller; inactive revokes every token of the client. */
  async function update(actor: Actor, id: string, patch: PatchClientInput) {
    if (patch.scopes) assertKnownScopes(patch.scopes);
    const held = await heldOf(actor, patch.scopes ?? []);
    // Reviving a client, widening where it may connect from or lifting its expiry hands out all it holds.
    // (Asked before the transaction: a permission check may read, and SQLite has one connection.)
    const widens = patch.status === 'active' || patch.allowedCidrs !== undefined || patch.expiresAt !== undefined;
    const current = widens ? (JSON.parse((await load(db, actor, id)).scopes) as string[]) : [];
    const heldNow = await heldOf(actor, current);
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const now = clock.now();
      const before = JSON.parse(row.scopes) as string[];
      // Narrowing is always allowed; only scopes the client does not have yet need the caller to hold them.
      if (patch.scopes) assertHeld(patch.scopes.filter((scope) => !before.includes(scope)), held, 'give this client');
      if (widens) assertHeld(before, new Set([...heldNow, ...held]), 'reactivate or widen a client');
      const after: ApiClientTable = {
        ...row,
        name: patch.name ?? row.name,
        scopes: patch.scopes ? JSON.stringify(patch.scopes) : row.scopes,
        allowed_cidrs: patch.allowedCidrs ? JSON.stringify(patch.allowedCidrs) : row.allowed_cidrs,
        expires_at: patch.expiresAt === undefined ? row.expires_at : expiryOf(patch.expiresAt, now),
        status: patch.status ?? row.status,
      };
      const fields = ([['name', 'name'], ['scopes', 'scopes'], ['allowed_cidrs', 'allowedCidrs'], ['expires_at', 'expiresAt']] as const)
        .filter(([column]) => after[column] !== row[column])
        .map(([, field]) => field);
      if (fields.length === 0 && after.status === row.status) return toView(row);
      after.updated_at = now;
      const { name, scopes, allowed_cidrs, expires_at, status } = after;
      await store.updateClient(trx, row.tenant_id, row.id, { name, scopes, allowed_cidrs, expires_at, status, updated_at: now }).catch((error) => {
        throw isUniqueViolation(error) ? nameTaken(after.name) : error;
      });
      const target = { type: 'client', id: row.id };
      if (fields.length > 0) {
        await audit.append(trx, row.tenant_id, {
          action: 'client.updated', actor, target,
          details: { fields: [...fields], name, scopes: JSON.parse(scopes) as string[], allowedCidrs: JSON.parse(allowed_cidrs) as string[], expiresAt: isoOrNull(expires_at) },
        });
      }
      if (status === 'inactive' && row.status === 'active') {
        const revoked = await store.revokeClientTokens(trx, row.tenant_id, row.id, now, 'client_deactivated');
        await audit.append(trx, row.tenant_id, { action: 'client.deactivated', actor, target, details: { clientId: row.client_id, tokensRevoked: revoked } });
      }
      if (status === 'active' && row.status === 'inactive') await audit.append(trx, row.tenant_id, { action: 'client.reactivated', actor, target, details: { clientId: row.client_id } });
      return toView(after);
    });
  }

  /** Deletes a client with every token issued to it. */
  async function remove(actor: Actor, id: string) {
    await db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      const revoked = await store.revokeClientTokens(trx, row.tenant_id, row.id, clock.now(), 'client_deleted');
      await store.deleteClient(trx, row.tenant_id, row.id);
      await audit.append(trx, row.tenant_id, { action: 'client.deleted', actor, target: { type: 'client', id: row.id }, details: { name: row.name, clientId: row.client_id, tokensRevoked: revoked } });
    });
  }

  /**
   * Replaces the secret (answered once): the old one stops working and every token of the client is revoked.
   * Whoever receives the secret can act as the client, so the caller must hold every one of its scopes.
   */
  async function rotateSecret(actor: Actor, id: string) {
    const current = await load(db, actor, id);
    const held = await heldOf(actor, JSON.parse(current.scopes) as string[]);
    const secret = generateToken(SECRET_PREFIX);
    return db.transaction().execute(async (trx) => {
      const row = await load(trx, actor, id);
      assertHeld(JSON.parse(row.scopes) as string[], held, 'take the secret of a client');
      const now = clock.now();
      const after: ApiClientTable = { ...row, secret_hash: hashToken(secret), secret_rotated_at: now, updated_at: now };
      await store.updateClient(trx, row.tenant_id, row.id, { secret_hash: after.secret_hash, secret_rotated_at: now, updated_at: now });
      const revoked = await store.revokeClientTokens(trx, row.tenant_id, row.id, now, 'secret_rotated');
      await audit.append(trx, row.tenant_id, { action: 'client.secret_rotated', actor, target: { type: 'client', id: row.id }, details: { clientId: row.client_id, tokensRevoked: revoked } });
      return { client: toView(after), clientSecret: secret };
    });
  }

  return { create, list, get, update, remove, rotateSecret, requestToken: tokens.requestToken, authenticate: tokens.authenticate, hasPermission: tokens.hasPermission };
}
export type ClientService = ReturnType<typeof createClientService>;
