import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import type { BehaviourAlertTable, BehaviourScoreTable } from '../../platform/db/schema.behaviour.js';
import { conflict, notFound } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import type { AlertView, BehaviourSettingsInput, ListAlertsQuery, ListEventsQuery, PostureView, ScoredEventView } from './behaviour.schemas.js';
import { dailyAverage, isWarm, localTime, UNUSUAL_HOUR_SHARE, type Baseline, type Signal } from './behaviour.scoring.js';
import { readBehaviourSettings, writeBehaviourSettings } from './behaviour.settings.js';
import * as store from './behaviour.store.js';

const iso = (ms: number) => new Date(Number(ms)).toISOString();
const DAY_MS = 86_400_000;
const RECENT_SCORES = 20;

function alertToView(row: BehaviourAlertTable): AlertView {
  return {
    id: row.id, userId: row.user_id, seq: Number(row.seq), lastSeq: Number(row.last_seq), action: row.action, score: Number(row.score), signals: JSON.parse(row.signals) as Signal[],
    eventCount: Number(row.event_count), occurredAt: iso(row.occurred_at), status: row.status, acknowledgedBy: row.acknowledged_by,
    acknowledgedAt: row.acknowledged_at === null ? null : iso(row.acknowledged_at), comment: row.comment, createdAt: iso(row.created_at),
  };
}

function scoreToView(row: BehaviourScoreTable): ScoredEventView {
  return { seq: Number(row.seq), action: row.action, occurredAt: iso(row.occurred_at), score: Number(row.score), signals: JSON.parse(row.signals) as Signal[], sourceIp: row.source_ip, targetId: row.target_id };
}

const alertNotFound = (id: string) => notFound('BEHAVIOUR_ALERT_NOT_FOUND', `No behaviour alert ${id} in this tenant.`);
const userNotFound = (id: string) => notFound('USER_NOT_FOUND', `No user ${id} in this tenant.`);

/** The hours (0-23) holding at least the unusual-hour share of a user's activity: when they normally work. */
function usualHours(hours: readonly number[]): number[] {
  const total = hours.reduce((a, b) => a + b, 0);
  return total === 0 ? [] : hours.flatMap((n, hour) => (n / total >= UNUSUAL_HOUR_SHARE ? [hour] : []));
}

/** What reviewers read and change: alerts, a user's posture, scored events, and the tenant's settings. */
export function createBehaviourService(deps: { db: Db; audit: AuditLog; clock: Clock }) {
  const { db, audit, clock } = deps;
  const tenantOf = (actor: Actor) => actor.tenantId!;

  async function requireUser(tenantId: string, userId: string) {
    if (!isId(userId) || !(await store.userExists(db, tenantId, userId))) throw userNotFound(userId);
  }

  /** The tenant's settings, defaults filled in. */
  async function getSettings(actor: Actor) {
    return readBehaviourSettings(db, tenantOf(actor));
  }

  /** Changes the given settings (audited); the consumer uses them from its next page on. */
  async function updateSettings(actor: Actor, input: BehaviourSettingsInput) {
    const tenantId = tenantOf(actor);
    return db.transaction().execute(async (trx) => {
      const next = { ...(await readBehaviourSettings(trx, tenantId)), ...input };
      await writeBehaviourSettings(trx, tenantId, next, clock.now());
      await audit.append(trx, tenantId, { action: 'behaviour.settings.updated', actor, details: { ...next } });
      return next;
    });
  }

  /** Alerts newest first with the filters; another tenant's user id finds nothing. */
  async function listAlerts(actor: Actor, query: ListAlertsQuery) {
    if (query.userId && !isId(query.userId)) return { alerts: [], nextCursor: null };
    const rows = await store.listAlerts(db, tenantOf(actor), query);
    const page = rows.slice(0, query.limit);
    return { alerts: page.map(alertToView), nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
  }

  /** One alert of the caller's tenant. */
  async function getAlert(actor: Actor, id: string) {
    const row = isId(id) ? await store.findAlert(db, tenantOf(actor), id) : undefined;
    if (!row) throw alertNotFound(id);
    return alertToView(row);
  }

  /** Acknowledges an open alert with a comment (audited); an acknowledged one answers 409. */
  async function acknowledge(actor: Actor, id: string, comment: string) {
    const tenantId = tenantOf(actor);
    if (!isId(id)) throw alertNotFound(id);
    return db.transaction().execute(async (trx) => {
      const row = await store.findAlert(trx, tenantId, id);
      if (!row) throw alertNotFound(id);
      if (!(await store.acknowledgeAlert(trx, tenantId, id, actor.id, comment, clock.now()))) throw conflict('BEHAVIOUR_ALERT_ACKNOWLEDGED', `Alert ${id} was already acknowledged.`);
      await audit.append(trx, tenantId, { action: 'behaviour.alert.acknowledged', actor, target: { type: 'behaviour_alert', id }, details: { alertId: id, userId: row.user_id, score: Number(row.score), comment } });
      return alertToView((await store.findAlert(trx, tenantId, id))!);
    });
  }

  /** A user's scored events newest first (cursor: the seq to continue below). */
  async function listEvents(actor: Actor, query: ListEventsQuery) {
    const tenantId = tenantOf(actor);
    await requireUser(tenantId, query.userId);
    const rows = await store.listScores(db, tenantId, query.userId, query);
    const page = rows.slice(0, query.limit);
    return { events: page.map(scoreToView), nextCursor: rows.length > query.limit ? String(page.at(-1)!.seq) : null };
  }

  /** A user's posture: what the baseline knows, recent scores, open alerts and the current risk. */
  async function posture(actor: Actor, userId: string): Promise<PostureView> {
    const tenantId = tenantOf(actor);
    await requireUser(tenantId, userId);
    const settings = await readBehaviourSettings(db, tenantId);
    const row = await store.baselineOf(db, tenantId, userId);
    const baseline = row ? (JSON.parse(row.data) as Baseline) : null;
    const recent = (await store.listScores(db, tenantId, userId, { limit: RECENT_SCORES })).slice(0, RECENT_SCORES);
    const now = clock.now();
    const hours = baseline?.hours ?? new Array<number>(24).fill(0);
    return {
      userId,
      warm: isWarm(baseline, now, { events: settings.warmUpEvents, days: settings.warmUpDays }),
      firstSeenAt: baseline ? iso(baseline.firstSeenAt) : null,
      lastSeenAt: baseline ? iso(baseline.lastSeenAt) : null,
      counts: {
        events: baseline?.events ?? 0, logins: baseline?.logins ?? 0, failedLogins: baseline?.failedLogins ?? 0, uses: baseline?.uses ?? 0,
        credentials: Object.keys(baseline?.credentials ?? {}).length, devices: Object.keys(baseline?.devices ?? {}).length,
      },
      usualSources: Object.entries(baseline?.sources ?? {}).sort((a, b) => b[1].n - a[1].n).slice(0, 10).map(([address, s]) => ({ address, count: s.n, lastSeenAt: iso(s.last) })),
      hours,
      usualHours: usualHours(hours),
      dailyAverage: baseline ? Math.round(dailyAverage(baseline, localTime(now, settings.timeZone).day) * 10) / 10 : 0,
      recentScores: recent.map(scoreToView),
      openAlerts: await store.countOpenAlerts(db, tenantId, userId),
      // The highest score of the last 24 hours: what a reviewer should worry about now.
      currentRisk: Math.max(0, ...recent.filter((r) => Number(r.occurred_at) > now - DAY_MS).map((r) => Number(r.score))),
    };
  }

  return { getSettings, updateSettings, listAlerts, getAlert, acknowledge, listEvents, posture };
}
export type BehaviourService = ReturnType<typeof createBehaviourService>;
