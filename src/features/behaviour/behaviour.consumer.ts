import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { BehaviourAlertTable, BehaviourBaselineTable, BehaviourScoreTable } from '../../platform/db/schema.behaviour.js';
import { newId } from '../../platform/ids.js';
import type { Notify } from '../access/access-requests.service.js';
import type { BehaviourSettings } from './behaviour.schemas.js';
import { applyEvent, emptyBaseline, localTime, scoreEvent, scoredActions, type Baseline, type ObservedEvent, type ScoredAction, type Signal } from './behaviour.scoring.js';
import { readBehaviourSettings } from './behaviour.settings.js';
import * as store from './behaviour.store.js';

/** High scores of one user within this long of an open alert join it instead of raising another. */
export const ALERT_FOLD_MS = 15 * 60_000;
const DEFAULT_PAGE = 1000;
const actions: ReadonlySet<string> = new Set(scoredActions);

/** The actor behaviour alerts are recorded under. */
const analyticsActor = (tenantId: string): Actor => ({ kind: 'system', id: 'behaviour-analytics', tenantId, ip: null });

type EventRow = Awaited<ReturnType<typeof store.readScoredEvents>>[number];
type Facts = Map<string, { deviceId: string; critical: boolean }>;
interface Scored {
  userId: string;
  event: ObservedEvent;
  score: number;
  signals: Signal[];
}

function detailsOf(row: EventRow): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(row.details);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The user an event is about: users only (API clients, unknown usernames and the system are not scored). */
function userOf(row: EventRow): string | null {
  if (row.actor_kind !== 'user' || !row.actor_id || row.actor_id === 'anonymous') return null;
  return row.actor_id;
}

/**
 * Reads each tenant's audit events past its cursor in pages, scores the logins, reveals and checkouts against each
 * user's baseline, and writes scores, baselines, alerts and the cursor of a page in one transaction: a crash redoes
 * the page, and the cursor check means no event is ever scored twice. Reads happen outside the transaction, so the
 * write lock is held only for the writes.
 */
export function createBehaviourConsumer(deps: { db: Db; audit: AuditLog; clock: Clock; notify: Notify; pageSize?: number }) {
  const { db, audit, clock, notify } = deps;
  const pageSize = deps.pageSize ?? DEFAULT_PAGE;

  function observe(row: EventRow, facts: Facts, timeZone: string): ObservedEvent {
    const details = detailsOf(row);
    const credentialId = row.target_type === 'credential' ? row.target_id : null;
    const fact = credentialId ? facts.get(credentialId) : undefined;
    const at = Number(row.occurred_at);
    return {
      seq: Number(row.seq), at, action: row.action as ScoredAction, ip: row.actor_ip, credentialId,
      deviceId: fact?.deviceId ?? null, critical: fact?.critical ?? false, emergency: details.emergency === true, ...localTime(at, timeZone),
    };
  }

  async function raiseAlerts(trx: DbOrTx, tenantId: string, high: Scored[], now: number): Promise<number> {
    if (high.length === 0) return 0;
    const open = new Map<string, BehaviourAlertTable>();
    let raised = 0;
    const names = await store.usernames(trx, tenantId, [...new Set(high.map((h) => h.userId))]);
    const admins = await store.securityAdmins(trx, tenantId);
    for (const item of high) {
      const { userId, event } = item;
      const current = open.get(userId) ?? (await store.recentOpenAlert(trx, tenantId, userId, event.at - ALERT_FOLD_MS));
      if (current && current.occurred_at >= event.at - ALERT_FOLD_MS) {
        const signals = mergeSignals(JSON.parse(current.signals) as Signal[], item.signals);
        const folded = { ...current, last_seq: event.seq, score: Math.max(current.score, item.score), signals: JSON.stringify(signals), event_count: current.event_count + 1, updated_at: now };
        await store.foldIntoAlert(trx, tenantId, current.id, folded);
        open.set(userId, folded);
        continue;
      }
      const alert: BehaviourAlertTable = {
        tenant_id: tenantId, id: newId(now), user_id: userId, seq: event.seq, last_seq: event.seq, action: event.action, score: item.score,
        signals: JSON.stringify(item.signals), event_count: 1, occurred_at: event.at, status: 'open', acknowledged_by: null, acknowledged_at: null, comment: null, created_at: now, updated_at: now,
      };
      await store.insertAlert(trx, alert);
      open.set(userId, alert);
      raised += 1;
      const username = names.get(userId) ?? userId;
      const signalNames = item.signals.map((s) => s.name);
      await audit.append(trx, tenantId, {
        action: 'behaviour.alert', actor: analyticsActor(tenantId), target: { type: 'user', id: userId },
        details: { alertId: alert.id, userId, username, score: item.score, signals: signalNames, seq: event.seq, scoredAction: event.action, sourceIp: event.ip },
      });
      await notify(trx, tenantId, {
        kind: 'behaviour.alert', link: { type: 'behaviour_alert', id: alert.id }, userIds: admins, focalPointTopics: ['security-incident'],
        subject: `Unusual behaviour of ${username}: risk ${item.score}`,
        text: `User ${username} (${userId}) scored ${item.score} of 100 on ${event.action} at ${new Date(event.at).toISOString()}${event.ip ? ` from ${event.ip}` : ''}. Signals: ${item.signals.map((s) => `${s.name} (${s.detail})`).join('; ')}. Review it: GET /api/v1/behaviour/alerts/${alert.id}, and the user's posture: GET /api/v1/behaviour/users/${userId}.`,
      });
    }
    return raised;
  }

  /** Scores one page (events after `from` up to `to`) and commits it with the cursor. */
  async function scorePage(tenantId: string, settings: BehaviourSettings, facts: Facts, rows: EventRow[], from: number, to: number) {
    const mine = rows.filter((row) => actions.has(row.action) && userOf(row) !== null);
    const unknown = [...new Set(mine.flatMap((row) => (row.target_type === 'credential' && row.target_id && !facts.has(row.target_id) ? [row.target_id] : [])))];
    for (const [id, fact] of await store.credentialFacts(db, tenantId, unknown)) facts.set(id, fact);
    const userIds = [...new Set(mine.map((row) => userOf(row)!))];
    const stored = await store.loadBaselines(db, tenantId, userIds);
    const baselines = new Map<string, Baseline>([...stored].map(([user, data]) => [user, JSON.parse(data) as Baseline]));
    const warmUp = { events: settings.warmUpEvents, days: settings.warmUpDays };
    const scored: Scored[] = [];
    for (const row of mine) {
      const userId = userOf(row)!;
      const event = observe(row, facts, settings.timeZone);
      const before = baselines.get(userId) ?? null;
      const { score, signals } = scoreEvent(before, event, warmUp);
      baselines.set(userId, applyEvent(before ?? emptyBaseline(event.at), event));
      scored.push({ userId, event, score, signals });
    }
    const now = clock.now();
    const scoreRows: BehaviourScoreTable[] = scored.map(({ userId, event, score, signals }) => ({
      tenant_id: tenantId, seq: event.seq, user_id: userId, action: event.action, occurred_at: event.at, score, signals: JSON.stringify(signals), source_ip: event.ip, target_id: event.credentialId,
    }));
    const baselineRows: BehaviourBaselineTable[] = userIds.map((userId) => {
      const baseline = baselines.get(userId)!;
      return { tenant_id: tenantId, user_id: userId, data: JSON.stringify(baseline), events: baseline.events, updated_at: now };
    });
    const high = scored.filter((s) => s.score >= settings.alertThreshold);
    return db.transaction().execute(async (trx) => {
      await store.advanceCursor(trx, tenantId, from, to, now);
      await store.insertScores(trx, scoreRows);
      await store.saveBaselines(trx, baselineRows);
      return { scored: scored.length, alerts: await raiseAlerts(trx, tenantId, high, now) };
    });
  }

  /** Scores one tenant's backlog up to its head seq as read at the start; answers what it did. */
  async function consumeTenant(tenantId: string, head: number, cursor: number) {
    const settings = await readBehaviourSettings(db, tenantId);
    // Devices and criticality of the credentials seen in this pass, read once per pass (a pass lasts seconds).
    const facts: Facts = new Map();
    let from = cursor;
    const total = { scored: 0, alerts: 0 };
    while (from < head) {
      const rows = await store.readScoredEvents(db, tenantId, from, head, pageSize);
      // A full page may stop short of the head: the next page starts after its last event.
      const to = rows.length === pageSize ? Number(rows.at(-1)!.seq) : head;
      const done = await scorePage(tenantId, settings, facts, rows, from, to);
      total.scored += done.scored;
      total.alerts += done.alerts;
      from = to;
    }
    return total;
  }

  /** Scores every tenant's backlog; answers how many events were scored and alerts raised. */
  async function consume() {
    const total = { tenants: 0, scored: 0, alerts: 0 };
    for (const { tenantId, head, cursor } of await store.tenantsWithBacklog(db)) {
      const done = await consumeTenant(tenantId, head, cursor);
      total.tenants += 1;
      total.scored += done.scored;
      total.alerts += done.alerts;
    }
    return total;
  }

  return { consume, consumeTenant };
}
export type BehaviourConsumer = ReturnType<typeof createBehaviourConsumer>;

/** The signals of two scores together, each name once with its highest weight. */
function mergeSignals(a: Signal[], b: Signal[]): Signal[] {
  const byName = new Map<string, Signal>();
  for (const signal of [...a, ...b]) if (!byName.has(signal.name) || byName.get(signal.name)!.weight < signal.weight) byName.set(signal.name, signal);
  return [...byName.values()];
}
