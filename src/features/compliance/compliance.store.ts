import type { DbOrTx } from '../../platform/db/database.js';
import type { AccessPolicyReviewTable, ComplianceReportTable } from '../../platform/db/schema.compliance.js';

// The report's aggregates over other features' tables are counts and the first rows only, never whole tables:
// each is one indexed statement so the report stays fast on a tenant with 100,000 credentials.

const count = (row: { n: unknown } | undefined) => Number(row?.n ?? 0);
/** Users who may sign in: active, or locked for a while after failed logins. */
const ENABLED = ['active', 'locked'] as const;

/** How many users of the tenant may sign in. */
export async function countEnabledUsers(db: DbOrTx, tenantId: string): Promise<number> {
  return count(await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('status', 'in', ENABLED).executeTakeFirst());
}

/** Enabled users without a confirmed TOTP authenticator: the total and the first ones by username, each saying whether SSO links them. */
export async function usersWithoutMfa(db: DbOrTx, tenantId: string, limit: number) {
  const base = db
    .selectFrom('users as u')
    .where('u.tenant_id', '=', tenantId)
    .where('u.status', 'in', ENABLED)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('mfa_totp as m').select('m.user_id').whereRef('m.tenant_id', '=', 'u.tenant_id').whereRef('m.user_id', '=', 'u.id').where('m.confirmed_at', 'is not', null))));
  const [total, rows] = await Promise.all([
    base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(),
    base
      .select(['u.id', 'u.username'])
      .select((eb) => eb.exists(eb.selectFrom('sso_links as s').select('s.user_id').whereRef('s.tenant_id', '=', 'u.tenant_id').whereRef('s.user_id', '=', 'u.id')).as('sso'))
      .orderBy('u.username')
      .limit(limit)
      .execute(),
  ]);
  return { total: count(total), rows: rows.map((r) => ({ id: r.id, username: r.username, sso: Boolean(Number(r.sso)) })) };
}

/** Active users holding tenant-admin, directly or through a group: the total and the first ones by username. */
export async function activeAdmins(db: DbOrTx, tenantId: string, limit: number) {
  const base = db
    .selectFrom('users as u')
    .where('u.tenant_id', '=', tenantId)
    .where('u.status', '=', 'active')
    .where((eb) =>
      eb.or([
        eb.exists(eb.selectFrom('user_roles as r').select('r.user_id').whereRef('r.tenant_id', '=', 'u.tenant_id').whereRef('r.user_id', '=', 'u.id').where('r.role', '=', 'tenant-admin')),
        eb.exists(
          eb.selectFrom('group_members as m')
            .innerJoin('group_roles as g', (j) => j.onRef('g.tenant_id', '=', 'm.tenant_id').onRef('g.group_id', '=', 'm.group_id'))
            .select('m.user_id')
            .whereRef('m.tenant_id', '=', 'u.tenant_id').whereRef('m.user_id', '=', 'u.id').where('g.role', '=', 'tenant-admin'),
        ),
      ]),
    );
  const [total, rows] = await Promise.all([base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst(), base.select(['u.id', 'u.username']).orderBy('u.username').limit(limit).execute()]);
  return { total: count(total), rows };
}

/** Active credentials that hold a secret: what the age control checks. */
export async function countCredentialsWithSecret(db: DbOrTx, tenantId: string): Promise<number> {
  return count(await db.selectFrom('credentials').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).where('status', '=', 'active').where('secret_changed_at', 'is not', null).executeTakeFirst());
}

/**
 * One page (in id order after the cursor: the primary key is walked once over all pages) of active credentials whose
 * current secret was set before `agedBefore`, or which are still at their first secret set before `firstBefore`.
 */
export async function agedCredentials(db: DbOrTx, tenantId: string, cut: { agedBefore: number; firstBefore: number }, after: string | null, limit: number) {
  let query = db
    .selectFrom('credentials as c')
    .innerJoin('devices as d', (j) => j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
    .select(['c.id', 'c.username', 'c.type', 'c.version', 'c.secret_changed_at', 'd.name as device_name', 'd.site as device_site', 'd.type as device_type'])
    .where('c.tenant_id', '=', tenantId)
    .where('c.status', '=', 'active')
    .where('c.secret_changed_at', '<', Math.max(cut.agedBefore, cut.firstBefore))
    .where((eb) => eb.or([eb('c.secret_changed_at', '<', cut.agedBefore), eb.and([eb('c.version', '=', 1), eb('c.secret_changed_at', '<', cut.firstBefore)])]));
  if (after) query = query.where('c.id', '>', after);
  const rows = await query.orderBy('c.id').limit(limit).execute();
  return rows.map((r) => ({
    id: r.id, username: r.username, type: r.type, version: Number(r.version), secretChangedAt: Number(r.secret_changed_at), deviceName: r.device_name, deviceSite: r.device_site, deviceType: r.device_type,
  }));
}

/** The tenant's active credentials on active high-criticality devices, with the attributes policies match on (tags apart). */
export async function highCriticalityCredentials(db: DbOrTx, tenantId: string) {
  return db
    .selectFrom('devices as d')
    .innerJoin('credentials as c', (j) => j.onRef('c.tenant_id', '=', 'd.tenant_id').onRef('c.device_id', '=', 'd.id'))
    .select(['c.id', 'c.username', 'c.type', 'd.name as device_name', 'd.site as device_site', 'd.type as device_type'])
    .where('d.tenant_id', '=', tenantId)
    .where('d.criticality', '=', 'high')
    .where('d.status', '=', 'active')
    .where('c.status', '=', 'active')
    .orderBy('c.id')
    .execute();
}

/** Records a review of an access policy. */
export async function insertReview(db: DbOrTx, row: AccessPolicyReviewTable): Promise<void> {
  await db.insertInto('access_policy_reviews').values(row).execute();
}

/** The latest review time of each reviewed policy of the tenant. */
export async function latestReviews(db: DbOrTx, tenantId: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('access_policy_reviews').select(['policy_id']).select((eb) => eb.fn.max('reviewed_at').as('at')).where('tenant_id', '=', tenantId).groupBy('policy_id').execute();
  return new Map(rows.map((r) => [r.policy_id, Number(r.at)]));
}

/** Whether the tenant already has a kept report for the day. */
export async function hasReport(db: DbOrTx, tenantId: string, day: string): Promise<boolean> {
  return (await db.selectFrom('compliance_reports').select('day').where('tenant_id', '=', tenantId).where('day', '=', day).executeTakeFirst()) !== undefined;
}

/** Stores the day's report, replacing an earlier run of the same day. */
export async function upsertReport(db: DbOrTx, row: ComplianceReportTable): Promise<void> {
  await db
    .insertInto('compliance_reports')
    .values(row)
    .onConflict((oc) => oc.columns(['tenant_id', 'day']).doUpdateSet({ score: row.score, controls: row.controls, generated_at: row.generated_at }))
    .execute();
}

/** Kept reports of the tenant between two days (inclusive), newest first. */
export async function listReports(db: DbOrTx, tenantId: string, range: { from?: string; to?: string; limit: number }) {
  let query = db.selectFrom('compliance_reports').selectAll().where('tenant_id', '=', tenantId);
  if (range.from) query = query.where('day', '>=', range.from);
  if (range.to) query = query.where('day', '<=', range.to);
  return query.orderBy('day', 'desc').limit(range.limit).execute();
}

/**
 * Active credentials the heartbeat (or a rotation) found out of sync: their stored secret no longer logs in. A verdict
 * older than the current secret (set since by hand) no longer counts. Longest out of sync first.
 */
export async function outOfSyncCredentials(db: DbOrTx, tenantId: string, limit: number) {
  const base = db.selectFrom('credential_heartbeats as h')
    .innerJoin('credentials as c', (j) => j.onRef('c.tenant_id', '=', 'h.tenant_id').onRef('c.id', '=', 'h.credential_id'))
    .innerJoin('devices as d', (j) => j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
    .where('h.tenant_id', '=', tenantId).where('h.status', '=', 'out_of_sync').where('c.status', '=', 'active').whereRef('h.checked_at', '>=', 'c.secret_changed_at');
  const rows = await base.select(['c.id', 'c.username', 'c.additional_info', 'd.name as device_name', 'h.changed_at', 'h.checked_at']).orderBy('h.changed_at').orderBy('c.id').limit(limit).execute();
  const total = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
  return { rows: rows.map((r) => ({ ...r, changed_at: Number(r.changed_at), checked_at: Number(r.checked_at) })), total: count(total) };
}
