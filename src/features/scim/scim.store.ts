import { sql } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.js';
import type { ScimTokenTable, UserTable } from '../../platform/db/schema.js';
import { NETWORK_KEY } from '../identity/network-policy.store.js';
import type { FilterClause } from './scim-filter.js';

// A comparison with a value of the wrong type (userName eq 5) matches nothing rather than failing.
const nothing = sql<boolean>`1 = 0`;

/** The tenant's token (there is at most one). */
export async function findToken(db: DbOrTx, tenantId: string) {
  return db.selectFrom('scim_tokens').selectAll().where('tenant_id', '=', tenantId).executeTakeFirst();
}

/** Replaces the tenant's token: the old row goes in the same transaction, so the old token stops at once. */
export async function replaceToken(db: DbOrTx, row: ScimTokenTable): Promise<void> {
  await db.deleteFrom('scim_tokens').where('tenant_id', '=', row.tenant_id).execute();
  await db.insertInto('scim_tokens').values(row).execute();
}

/** Removes the tenant's token; answers whether there was one. */
export async function deleteToken(db: DbOrTx, tenantId: string): Promise<boolean> {
  const result = await db.deleteFrom('scim_tokens').where('tenant_id', '=', tenantId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Every SCIM request: the token with its tenant's status and network allowlist, in one indexed read. */
export async function findTokenByHash(db: DbOrTx, tokenHash: string) {
  return db
    .selectFrom('scim_tokens as k')
    .innerJoin('tenants as t', 't.id', 'k.tenant_id')
    .leftJoin('tenant_settings as n', (j) => j.onRef('n.tenant_id', '=', 'k.tenant_id').on('n.key', '=', NETWORK_KEY))
    .select(['k.tenant_id', 'k.id', 'k.last_used_at', 't.status as tenant_status', 'n.value as network_policy'])
    .where('k.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Records a use of the token (the caller limits how often). */
export async function touchToken(db: DbOrTx, tenantId: string, id: string, now: number): Promise<void> {
  await db.updateTable('scim_tokens').set({ last_used_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Changes the attributes SCIM manages on a user. */
export async function updateUserAttributes(db: DbOrTx, tenantId: string, id: string, changes: Partial<Pick<UserTable, 'username' | 'email' | 'display_name' | 'external_id' | 'given_name' | 'family_name'>>, now: number): Promise<void> {
  await db.updateTable('users').set({ ...changes, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** A page of the tenant's users matching every clause (creation order), and how many match in all. */
export async function findUsers(db: DbOrTx, tenantId: string, clauses: readonly FilterClause[], page: { offset: number; limit: number }) {
  let query = db.selectFrom('users as u').where('u.tenant_id', '=', tenantId);
  for (const { attribute, value } of clauses) {
    const text = typeof value === 'string' ? value : null;
    if (attribute === 'active') {
      query = typeof value === 'boolean' ? query.where('u.status', value ? '!=' : '=', 'inactive') : query.where(nothing);
      continue;
    }
    if (text === null) {
      query = query.where(nothing);
      continue;
    }
    // userName is stored lower-case; e-mail and display name compare case-insensitively (caseExact false), ids exactly.
    if (attribute === 'userName') query = query.where('u.username', '=', text.toLowerCase());
    else if (attribute === 'externalId') query = query.where('u.external_id', '=', text);
    else if (attribute === 'id') query = query.where('u.id', '=', text);
    else if (attribute === 'displayName') query = query.where((eb) => eb.fn('lower', ['u.display_name']), '=', text.toLowerCase());
    else if (attribute === 'emails') query = query.where((eb) => eb.fn('lower', ['u.email']), '=', text.toLowerCase());
  }
  const total = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  const rows = page.limit === 0 ? [] : await query.selectAll('u').orderBy('u.id').offset(page.offset).limit(page.limit).execute();
  return { total: Number(total.n), rows };
}

/** A page of the tenant's groups matching every clause (creation order), and how many match in all. */
export async function findGroups(db: DbOrTx, tenantId: string, clauses: readonly FilterClause[], page: { offset: number; limit: number }) {
  let query = db.selectFrom('groups as g').where('g.tenant_id', '=', tenantId);
  for (const { attribute, value } of clauses) {
    if (typeof value !== 'string') {
      query = query.where(nothing);
      continue;
    }
    if (attribute === 'displayName') query = query.where((eb) => eb.fn('lower', ['g.name']), '=', value.toLowerCase());
    else if (attribute === 'externalId') query = query.where('g.external_id', '=', value);
    else if (attribute === 'id') query = query.where('g.id', '=', value);
    else if (attribute === 'members') {
      query = query.where((eb) => eb.exists(eb.selectFrom('group_members as m').select('m.user_id').whereRef('m.tenant_id', '=', 'g.tenant_id').whereRef('m.group_id', '=', 'g.id').where('m.user_id', '=', value)));
    }
  }
  const total = await query.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  const rows = page.limit === 0 ? [] : await query.selectAll('g').orderBy('g.id').offset(page.offset).limit(page.limit).execute();
  return { total: Number(total.n), rows };
}

/** The groups of several users at once (for the read-only groups attribute), by user id. */
export async function groupsOfUsers(db: DbOrTx, tenantId: string, userIds: readonly string[]): Promise<Map<string, { id: string; name: string }[]>> {
  const byUser = new Map<string, { id: string; name: string }[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return byUser;
  const rows = await db
    .selectFrom('group_members as m')
    .innerJoin('groups as g', (j) => j.onRef('g.tenant_id', '=', 'm.tenant_id').onRef('g.id', '=', 'm.group_id'))
    .select(['m.user_id', 'g.id', 'g.name'])
    .where('m.tenant_id', '=', tenantId)
    .where('m.user_id', 'in', userIds)
    .orderBy('g.name')
    .execute();
  for (const row of rows) byUser.get(row.user_id)?.push({ id: row.id, name: row.name });
  return byUser;
}
