import type { Db, DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';
import type { ApiClientTable, ClientTokenTable } from '../../platform/db/schema.js';
import { NETWORK_KEY } from '../identity/network-policy.store.js';

/** Inserts an API client. */
export async function insertClient(db: DbOrTx, row: ApiClientTable): Promise<void> {
  await db.insertInto('api_clients').values(row).execute();
}

/** A tenant's client by row id. */
export async function findClient(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('api_clients').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** A client by its public client_id, in whichever tenant holds it (client ids are unique across the installation). */
export async function findClientByClientId(db: DbOrTx, clientId: string) {
  return db
    .selectFrom('api_clients as c')
    .innerJoin('tenants as t', 't.id', 'c.tenant_id')
    .leftJoin('tenant_settings as n', (j) => j.onRef('n.tenant_id', '=', 'c.tenant_id').on('n.key', '=', NETWORK_KEY))
    .selectAll('c')
    .select(['t.status as tenant_status', 'n.value as network_policy'])
    .where('c.client_id', '=', clientId)
    .executeTakeFirst();
}

/** A tenant's clients in creation order, optionally only those of one status. */
export async function listClients(db: DbOrTx, tenantId: string, filter: { status?: ApiClientTable['status'] }) {
  let query = db.selectFrom('api_clients').selectAll().where('tenant_id', '=', tenantId);
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.orderBy('created_at').orderBy('id').execute();
}

/** Changes a client's fields. */
export async function updateClient(db: DbOrTx, tenantId: string, id: string, changes: Partial<Omit<ApiClientTable, 'tenant_id' | 'id' | 'client_id'>>): Promise<void> {
  await db.updateTable('api_clients').set(changes).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Removes a client and every token issued to it. */
export async function deleteClient(db: DbOrTx, tenantId: string, id: string): Promise<void> {
  await db.deleteFrom('client_tokens').where('tenant_id', '=', tenantId).where('client_id', '=', id).execute();
  await db.deleteFrom('api_clients').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/**
 * Records that a token is being issued, only while the client is active and still has the secret that was
 * checked; answers whether it did. The row lock orders this against a concurrent rotation or deactivation.
 */
export async function markTokenIssued(db: DbOrTx, tenantId: string, id: string, secretHash: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('api_clients')
    .set({ last_token_at: now })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('secret_hash', '=', secretHash)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Stores an access token by its hash. */
export async function insertToken(db: DbOrTx, row: ClientTokenTable): Promise<void> {
  await db.insertInto('client_tokens').values(row).execute();
}

/** Revokes every live token of a client; answers how many were live. */
export async function revokeClientTokens(db: DbOrTx, tenantId: string, clientRowId: string, now: number, reason: string): Promise<number> {
  const result = await db
    .updateTable('client_tokens')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('tenant_id', '=', tenantId)
    .where('client_id', '=', clientRowId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Deletes a client's tokens that ended (expired or revoked) before the cutoff: keeps the table small without a job. */
export async function deleteEndedTokens(db: DbOrTx, tenantId: string, clientRowId: string, cutoff: number): Promise<void> {
  await db
    .deleteFrom('client_tokens')
    .where('tenant_id', '=', tenantId)
    .where('client_id', '=', clientRowId)
    .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('revoked_at', '<', cutoff)]))
    .execute();
}

/**
 * The hot path of every request with a client token: one indexed read of the token with its client, tenant and
 * the tenant's network allowlist, compiled once.
 */
export const findTokenByHash = prepareQuery(1, (db: Db, tokenHash: string) =>
  db
    .selectFrom('client_tokens as k')
    .innerJoin('api_clients as c', (j) => j.onRef('c.tenant_id', '=', 'k.tenant_id').onRef('c.id', '=', 'k.client_id'))
    .innerJoin('tenants as t', 't.id', 'k.tenant_id')
    .leftJoin('tenant_settings as n', (j) => j.onRef('n.tenant_id', '=', 'k.tenant_id').on('n.key', '=', NETWORK_KEY))
    .select([
      'k.tenant_id', 'k.id', 'k.client_id', 'k.scopes', 'k.expires_at', 'k.revoked_at',
      'c.scopes as client_scopes', 'c.status as client_status', 'c.expires_at as client_expires_at', 'c.allowed_cidrs',
      't.status as tenant_status', 'n.value as network_policy',
    ])
    .where('k.token_hash', '=', tokenHash),
);
