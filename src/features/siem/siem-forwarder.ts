import { systemActor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db } from '../../platform/db/database.js';
import type { SiemCursorTable, SiemDestinationTable } from '../../platform/db/schema.siem.js';
import { retryDelayMs, type BackoffPolicy } from '../../platform/jobs/backoff.js';
import type { Logger } from '../../platform/log.js';
import { formatEvent, type ForwardedEvent } from './siem-format.js';
import type { SiemMetrics } from './siem-metrics.js';
import { resolveTarget } from './siem-target.js';
import type { Deliver, SiemTarget } from './siem-transport.js';
import * as store from './siem.store.js';

/** Half a second doubling to a minute: a receiver back from a restart is found again quickly. */
const forwardBackoff: BackoffPolicy = { baseMs: 500, maxMs: 60_000 };

interface DestinationState {
  running: Promise<void> | null;
  notBefore: number;
  target: { key: string; value: SiemTarget } | null;
  lag: number;
  failing: boolean;
}

/** A round holds at most this many message bytes, however long the events: memory stays bounded. */
const ROUND_BYTES = 4 * 1024 * 1024;

/** Formats the events the filters keep, up to ROUND_BYTES; lastSeq is the last event the round covers. */
function formatRound(row: SiemDestinationTable, events: ForwardedEvent[], keep: (e: ForwardedEvent) => boolean) {
  const options = { maxBytes: Number(row.max_message_bytes), syslog: row.transport !== 'https' };
  const messages: string[] = [];
  let bytes = 0;
  let handled = 0;
  for (const event of events) {
    if (bytes >= ROUND_BYTES) break;
    handled += 1;
    if (!keep(event)) continue;
    const message = formatEvent(event, row.format, options);
    messages.push(message);
    bytes += message.length;
  }
  return { messages, lastSeq: events[handled - 1]!.seq, handled };
}

const matches = (row: SiemDestinationTable, categories: string[]) => (e: ForwardedEvent) => e.severity >= Number(row.min_severity) && (categories.length === 0 || categories.includes(e.category));

/**
 * Forwards each tenant's audit log to its SIEM destinations. The log is the outbox: a round reads the events after
 * the destination's cursor in seq order, sends those its filters keep, and moves the cursor past the whole batch
 * only once the transport confirmed the round (filtered events just advance it). A failed round leaves the cursor,
 * records the error, backs off and resends from the cursor: at least once, in order, across restarts. Run it on
 * the leader only; stop() waits for the rounds in flight.
 */
export function createSiemForwarder(deps: { db: Db; audit: AuditLog; keyring: Keyring; clock: Clock; log: Logger; metrics: SiemMetrics; deliver: Deliver; pollMs?: number; batchSize?: number; backoff?: BackoffPolicy }) {
  const { db, audit, keyring, clock, metrics } = deps;
  const log = deps.log.child({ component: 'siem.forwarder' });
  const pollMs = deps.pollMs ?? 200;
  const batchSize = deps.batchSize ?? 5_000;
  const backoff = deps.backoff ?? forwardBackoff;
  const states = new Map<string, DestinationState>();
  let timer: NodeJS.Timeout | null = null;
  let running = false;
  let ticking: Promise<void> | null = null;

  async function targetOf(state: DestinationState, row: SiemDestinationTable): Promise<SiemTarget> {
    // The whole row is the key: an edit within one clock tick still replaces the target (and its opened secrets).
    const key = JSON.stringify(row);
    if (state.target?.key !== key) state.target = { key, value: await resolveTarget(db, keyring, row) };
    return state.target.value;
  }

  async function succeeded(row: SiemDestinationTable, cursor: SiemCursorTable, lastSeq: number, delivered: boolean) {
    const now = clock.now();
    const changes = { last_seq: lastSeq, failures: 0, updated_at: now, ...(delivered ? { last_delivered_at: now } : {}) };
    if (cursor.failures === 0) return store.saveCursor(db, row.tenant_id, row.id, changes);
    // Recovered: recorded once, with the cursor move; the event is forwarded by a later round like any other.
    await db.transaction().execute(async (trx) => {
      await store.saveCursor(trx, row.tenant_id, row.id, changes);
      await audit.append(trx, row.tenant_id, { action: 'siem.delivery.recovered', actor: systemActor, target: { type: 'siem_destination', id: row.id }, details: { name: row.name, failedRounds: cursor.failures, failingSinceMs: cursor.last_error_at === null ? null : now - cursor.last_error_at } });
    });
    log.info({ destination: row.id, tenant: row.tenant_id }, 'SIEM destination recovered');
  }

  async function failed(row: SiemDestinationTable, cursor: SiemCursorTable, message: string) {
    const now = clock.now();
    const changes = { failures: cursor.failures + 1, last_error: message.slice(0, 1000), last_error_at: now, updated_at: now };
    if (cursor.failures > 0) return store.saveCursor(db, row.tenant_id, row.id, changes);
    // One failing event per outage: later failed rounds only update the cursor row, so this cannot loop.
    await db.transaction().execute(async (trx) => {
      await store.saveCursor(trx, row.tenant_id, row.id, changes);
      await audit.append(trx, row.tenant_id, { action: 'siem.delivery.failing', actor: systemActor, outcome: 'failure', target: { type: 'siem_destination', id: row.id }, details: { name: row.name, error: changes.last_error } });
    });
    log.warn({ destination: row.id, tenant: row.tenant_id, err: message }, 'SIEM destination failing');
  }

  /** Rounds until the destination is caught up, a round fails, or the forwarder stops. */
  async function serve(row: SiemDestinationTable, state: DestinationState) {
    const categories = JSON.parse(row.categories) as string[];
    const keep = matches(row, categories);
    const prepare = async (afterSeq: number) => {
      const events = await store.eventsAfter(db, row.tenant_id, afterSeq, batchSize);
      return { afterSeq, events, round: events.length > 0 ? formatRound(row, events, keep) : null };
    };
    let prepared: ReturnType<typeof prepare> | null = null;
    for (;;) {
      const cursor = await store.findCursor(db, row.tenant_id, row.id);
      if (!cursor) return;
      // The batch read while the previous round was in flight, if it starts where the cursor now is.
      const ahead = prepared ? await prepared : null;
      const { events, round } = ahead && ahead.afterSeq === cursor.last_seq ? ahead : await prepare(cursor.last_seq);
      prepared = null;
      if (!round) {
        state.lag = 0;
        return;
      }
      const { messages, lastSeq, handled } = round;
      const more = events.length === batchSize || handled < events.length;
      // Reading and formatting the next batch overlaps this round's wait for the receiver; a failed round drops it.
      if (more && running) {
        prepared = prepare(lastSeq);
        prepared.catch(() => undefined);
      }
      try {
        if (messages.length > 0) await deps.deliver(await targetOf(state, row), messages);
      } catch (error) {
        const message = (error as Error).message;
        metrics.rounds.labels(row.transport, 'failure').inc();
        await failed(row, cursor, message);
        state.failing = true;
        state.notBefore = Date.now() + retryDelayMs(cursor.failures + 1, backoff);
        await prepared?.catch(() => undefined);
        return;
      }
      await succeeded(row, cursor, lastSeq, messages.length > 0);
      state.failing = false;
      metrics.rounds.labels(row.transport, 'success').inc();
      metrics.events.labels(row.transport, row.format, 'delivered').inc(messages.length);
      if (handled > messages.length) metrics.events.labels(row.transport, row.format, 'filtered').inc(handled - messages.length);
      state.lag = Math.max(0, (await store.headSeq(db, row.tenant_id)) - lastSeq);
      if (!more || !running) {
        await prepared?.catch(() => undefined);
        return;
      }
    }
  }

  /** One poll: starts a round for every enabled destination that is idle and not backing off. */
  async function tick(): Promise<void> {
    const rows = await store.listEnabledDestinations(db);
    const seen = new Set<string>();
    for (const row of rows) {
      const key = `${row.tenant_id}/${row.id}`;
      seen.add(key);
      let state = states.get(key);
      if (!state) states.set(key, (state = { running: null, notBefore: 0, target: null, lag: 0, failing: false }));
      if (state.running || Date.now() < state.notBefore) continue;
      const current = state;
      current.running = serve(row, current)
        .catch((error: Error) => {
          current.notBefore = Date.now() + retryDelayMs(2, backoff);
          log.error({ destination: row.id, err: error.message }, 'SIEM round failed unexpectedly');
        })
        .finally(() => (current.running = null));
    }
    for (const key of states.keys()) if (!seen.has(key) && !states.get(key)!.running) states.delete(key);
    metrics.lag.set([...states.values()].reduce((n, s) => n + s.lag, 0));
    metrics.failing.set([...states.values()].filter((s) => s.failing).length);
  }

  function schedule() {
    if (!running) return;
    timer = setTimeout(() => {
      ticking = tick()
        .catch((error: Error) => log.error({ err: error.message }, 'SIEM poll failed'))
        .finally(() => {
          ticking = null;
          schedule();
        });
    }, pollMs);
  }

  /** Starts polling (idempotent). */
  function start(): void {
    if (running) return;
    running = true;
    schedule();
  }

  /** Stops polling and waits for the rounds in flight; their cursors are saved, the rest waits in the log. */
  async function stop(): Promise<void> {
    running = false;
    if (timer) clearTimeout(timer);
    timer = null;
    await ticking;
    await Promise.all([...states.values()].map((s) => s.running));
  }

  /** Runs one poll and waits for every round it started (tests and the bench drive the forwarder with it). */
  async function drainOnce(): Promise<void> {
    await tick();
    await Promise.all([...states.values()].map((s) => s.running));
  }

  return { start, stop, drainOnce, isRunning: () => running };
}
export type SiemForwarder = ReturnType<typeof createSiemForwarder>;
