import type { DbOrTx } from '../../platform/db/database.js';
import { chunks } from '../../platform/db/chunks.js';
import type { BehaviourAlertTable, BehaviourBaselineTable, BehaviourScoreTable } from '../../platform/db/schema.behaviour.js';
import { conflict } from '../../platform/errors.js';
import { scoredActions } from './behaviour.scoring.js';


/** Tenants whose audit head is past their behaviour cursor: where there is something to score. */
export async function tenantsWithBacklog(db: DbOrTx): Promise<{ tenantId: string; head: number; cursor: number }[]> {
  const rows = await db
    .selectFrom('audit_heads as h')
    .innerJoin('tenants as t', 't.id', 'h.tenant_id')
    .leftJoin('behaviour_cursors as c', 'c.tenant_id', 'h.tenant_id')
    .select(['h.tenant_id', 'h.seq as head', 'c.seq as cursor'])
    .where((eb) => eb('h.seq', '>', eb.fn.coalesce('c.seq', eb.lit(0))))
    .execute();
  return rows.map((r) => ({ tenantId: r.tenant_id, head: Number(r.head), cursor: Number(r.cursor ?? 0) }));
}

/** The scored events of a tenant after a seq up to another, in order, at most limit of them. */
export async function readScoredEvents(db: DbOrTx, tenantId: string, after: number, upTo: number, limit: number) {
  return db
    .selectFrom('audit_events')
    .select(['seq', 'occurred_at', 'action', 'actor_kind', 'actor_id', 'actor_ip', 'target_type', 'target_id', 'details'])
    .where('tenant_id', '=', tenantId)
    .where('seq', '>', after)
    .where('seq', '<=', upTo)
    .where('action', 'in', scoredActions)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** Each credential's device and whether that device's criticality is high. */
export async function credentialFacts(db: DbOrTx, tenantId: string, ids: readonly string[]): Promise<Map<string, { deviceId: string; critical: boolean }>> {
  const facts = new Map<string, { deviceId: string; critical: boolean }>();
  for (const part of chunks(ids)) {
    const rows = await db
      .selectFrom('credentials as c')
      .innerJoin('devices as d', (join) => join.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
      .select(['c.id', 'c.device_id', 'd.criticality'])
      .where('c.tenant_id', '=', tenantId)
      .where('c.id', 'in', part)
      .execute();
    for (const row of rows) facts.set(row.id, { deviceId: row.device_id, critical: row.criticality === 'high' });
  }
  return facts;
}

/** The stored baselines (JSON) of some users. */
export async function loadBaselines(db: DbOrTx, tenantId: string, userIds: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const part of chunks(userIds)) {
    const rows = await db.selectFrom('behaviour_baselines').select(['user_id', 'data']).where('tenant_id', '=', tenantId).where('user_id', 'in', part).execute();
    for (const row of rows) found.set(row.user_id, row.data);
  }
  return found;
}

/** Writes baselines, one row per user, replacing what was there. */
export async function saveBaselines(trx: DbOrTx, rows: BehaviourBaselineTable[]): Promise<void> {
  for (const part of chunks(rows)) {
    await trx
      .insertInto('behaviour_baselines')
      .values(part)
      .onConflict((oc) => oc.columns(['tenant_id', 'user_id']).doUpdateSet((eb) => ({ data: eb.ref('excluded.data'), events: eb.ref('excluded.events'), updated_at: eb.ref('excluded.updated_at') })))
      .execute();
  }
}

/** Records scores; a seq already scored is a conflict (the batch rolls back), never a second score. */
export async function insertScores(trx: DbOrTx, rows: BehaviourScoreTable[]): Promise<void> {
  for (const part of chunks(rows)) await trx.insertInto('behaviour_scores').values(part).execute();
}

/** Moves a tenant's cursor from one seq to the next; another writer having moved it first rolls the batch back. */
export async function advanceCursor(trx: DbOrTx, tenantId: string, from: number, to: number, now: number): Promise<void> {
  await trx.insertInto('behaviour_cursors').values({ tenant_id: tenantId, seq: 0, updated_at: now }).onConflict((oc) => oc.column('tenant_id').doNothing()).execute();
  const result = await trx.updateTable('behaviour_cursors').set({ seq: to, updated_at: now }).where('tenant_id', '=', tenantId).where('seq', '=', from).executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw conflict('BEHAVIOUR_CURSOR_MOVED', `Another node scored tenant ${tenantId} past seq ${from} first.`);
}

/** A tenant's cursor (0 before anything was scored). */
export async function cursorOf(db: DbOrTx, tenantId: string): Promise<number> {
  const row = await db.selectFrom('behaviour_cursors').select('seq').where('tenant_id', '=', tenantId).executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/** The user's newest open alert raised at or after a time (later high scores join it). */
export async function recentOpenAlert(db: DbOrTx, tenantId: string, userId: string, since: number) {
  return db.selectFrom('behaviour_alerts').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('status', '=', 'open').where('occurred_at', '>=', since).orderBy('id', 'desc').limit(1).executeTakeFirst();
}

/** Adds an alert. */
export async function insertAlert(trx: DbOrTx, row: BehaviourAlertTable): Promise<void> {
  await trx.insertInto('behaviour_alerts').values(row).execute();
}

/** Folds a later high score into an open alert. */
export async function foldIntoAlert(trx: DbOrTx, tenantId: string, id: string, change: Pick<BehaviourAlertTable, 'last_seq' | 'score' | 'signals' | 'event_count' | 'updated_at'>): Promise<void> {
  await trx.updateTable('behaviour_alerts').set(change).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Filters of the alert list. */
export interface AlertFilter {
  userId?: string;
  from?: number;
  to?: number;
  minScore?: number;
  status?: 'open' | 'acknowledged';
  cursor?: string;
  limit: number;
}

/** Alerts newest first (ids are time-ordered), one more than limit to tell whether there is a next page. */
export async function listAlerts(db: DbOrTx, tenantId: string, filter: AlertFilter) {
  let query = db.selectFrom('behaviour_alerts').selectAll().where('tenant_id', '=', tenantId);
  if (filter.userId) query = query.where('user_id', '=', filter.userId);
  if (filter.status) query = query.where('status', '=', filter.status);
  if (filter.from !== undefined) query = query.where('occurred_at', '>=', filter.from);
  if (filter.to !== undefined) query = query.where('occurred_at', '<', filter.to);
  if (filter.minScore !== undefined) query = query.where('score', '>=', filter.minScore);
  if (filter.cursor) query = query.where('id', '<', filter.cursor);
  return query.orderBy('id', 'desc').limit(filter.limit + 1).execute();
}

/** One alert of the tenant. */
export async function findAlert(db: DbOrTx, tenantId: string, id: string) {
  return db.selectFrom('behaviour_alerts').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** Marks an open alert acknowledged; false when it was not open. */
export async function acknowledgeAlert(trx: DbOrTx, tenantId: string, id: string, by: string, comment: string, now: number): Promise<boolean> {
  const result = await trx.updateTable('behaviour_alerts').set({ status: 'acknowledged', acknowledged_by: by, acknowledged_at: now, comment, updated_at: now }).where('tenant_id', '=', tenantId).where('id', '=', id).where('status', '=', 'open').executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** How many open alerts a user has. */
export async function countOpenAlerts(db: DbOrTx, tenantId: string, userId: string): Promise<number> {
  const row = await db.selectFrom('behaviour_alerts').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('status', '=', 'open').executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A user's scored events newest first, one more than limit. */
export async function listScores(db: DbOrTx, tenantId: string, userId: string, filter: { cursor?: number; minScore?: number; limit: number }) {
  let query = db.selectFrom('behaviour_scores').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId);
  if (filter.cursor !== undefined) query = query.where('seq', '<', filter.cursor);
  if (filter.minScore !== undefined) query = query.where('score', '>=', filter.minScore);
  return query.orderBy('seq', 'desc').limit(filter.limit + 1).execute();
}

/** One user's stored baseline row. */
export async function baselineOf(db: DbOrTx, tenantId: string, userId: string) {
  return db.selectFrom('behaviour_baselines').selectAll().where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst();
}

/** Active users who hold the security-admin role directly: their inbox receives every alert. */
export async function securityAdmins(db: DbOrTx, tenantId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('user_roles as r')
    .innerJoin('users as u', (join) => join.onRef('u.tenant_id', '=', 'r.tenant_id').onRef('u.id', '=', 'r.user_id'))
    .select('u.id')
    .where('r.tenant_id', '=', tenantId)
    .where('r.role', '=', 'security-admin')
    .where('u.status', '=', 'active')
    .execute();
  return rows.map((r) => r.id);
}

/** Usernames of some users (for alert texts). */
export async function usernames(db: DbOrTx, tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['id', 'username']).where('tenant_id', '=', tenantId).where('id', 'in', [...ids]).execute();
  return new Map(rows.map((r) => [r.id, r.username]));
}

/** Whether a user belongs to the tenant. */
export async function userExists(db: DbOrTx, tenantId: string, userId: string): Promise<boolean> {
  return (await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', userId).executeTakeFirst()) !== undefined;
}
