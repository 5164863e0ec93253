import type { Db, DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';
import { NETWORK_KEY } from './network-policy.store.js';
import type { SessionTable } from '../../platform/db/schema.js';

/** Stores a session by its token's hash. */
export async function insertSession(db: DbOrTx, row: SessionTable): Promise<void> {
  await db.insertInto('sessions').values(row).execute();
}

/**
 * The hot path of every request: one indexed read of the session with its user, tenant and roles (direct and
 * through groups; a row per combination), compiled once. Everything a request needs to know about its caller comes from this one query.
 */
export const findSessionByHash = prepareQuery(1, (db: Db, tokenHash: string) =>
  db
    .selectFrom('sessions as s')
    .innerJoin('users as u', (j) => j.onRef('u.tenant_id', '=', 's.tenant_id').onRef('u.id', '=', 's.user_id'))
    .innerJoin('tenants as t', 't.id', 's.tenant_id')
    .leftJoin('user_roles as r', (j) => j.onRef('r.tenant_id', '=', 's.tenant_id').onRef('r.user_id', '=', 's.user_id'))
    // Roles through groups: a row per (direct role × group role); a few rows for real users, deduplicated by the caller.
    .leftJoin('group_members as gm', (j) => j.onRef('gm.tenant_id', '=', 's.tenant_id').onRef('gm.user_id', '=', 's.user_id'))
    .leftJoin('group_roles as gr', (j) => j.onRef('gr.tenant_id', '=', 'gm.tenant_id').onRef('gr.group_id', '=', 'gm.group_id'))
    .leftJoin('tenant_settings as n', (j) => j.onRef('n.tenant_id', '=', 's.tenant_id').on('n.key', '=', NETWORK_KEY))
    .select([
      's.tenant_id', 's.id', 's.user_id', 's.last_seen_at', 's.idle_expires_at', 's.expires_at', 's.revoked_at', 's.idle_timeout_ms', 's.restriction',
      'u.status as user_status', 'u.username', 'u.email', 't.status as tenant_status', 't.slug as tenant_slug', 'r.role', 'gr.role as group_role', 'n.value as network_policy',
    ])
    .where('s.token_hash', '=', tokenHash),
);

/** Slides the idle expiry forward (never past the absolute expiry). */
export async function touchSession(db: DbOrTx, tenantId: string, id: string, now: number, idleExpiresAt: number): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ last_seen_at: now, idle_expires_at: idleExpiresAt })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .execute();
}

/** Revokes one live session; answers whether it was live. */
export async function revokeSession(db: DbOrTx, tenantId: string, id: string, now: number, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Revokes every live session of a tenant, or of one user in it (optionally sparing one session); answers how many. */
export async function revokeSessions(db: DbOrTx, tenantId: string, now: number, reason: string, userId?: string, exceptSessionId?: string): Promise<number> {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('tenant_id', '=', tenantId)
    .where('revoked_at', 'is', null);
  if (userId) query = query.where('user_id', '=', userId);
  if (exceptSessionId) query = query.where('id', '!=', exceptSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Deletes sessions that ended (expired or revoked) before the cutoff, in every tenant: housekeeping, not a rule. */
export async function deleteSessionsEndedBefore(db: DbOrTx, cutoff: number): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('idle_expires_at', '<', cutoff), eb('revoked_at', '<', cutoff)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

