import pg from 'pg';
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database, DbOrTx } from '../db/database.js';
import type { Logger } from '../log.js';

/** Something every node must act on at once: a user deactivated, a tenant suspended or deleted. */
export interface Signal {
  kind: string;
  tenantId: string;
  subject?: { type: string; id: string };
}
/** Reacts to a signal on this node (ends live SSH sessions, drops cached keys...). */
export type SignalHandler = (signal: Signal) => void | Promise<void>;

const CHANNEL = 'custos_signals';
const POLL_MS = 200;
const RETAIN_MS = 3600_000;

/**
 * Signals published inside a transaction reach every node only if and when it commits. On PostgreSQL they travel
 * by NOTIFY (delivered at commit, to every listening node); on SQLite, where the CLI is another process on the
 * same file, through a small table that each process polls when the database changed.
 */
export function createSignals(deps: { database: Database; postgresUrl?: string; clock: Clock; log: Logger }) {
  const { database, clock, log } = deps;
  const handlers = new Map<string, Set<SignalHandler>>();
  let stopped = true;
  let listener: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;

  /** Publishes a signal in the caller's transaction. */
  async function publish(trx: DbOrTx, signal: Signal): Promise<void> {
    const payload = JSON.stringify(signal);
    if (database.dialect === 'postgres') {
      await sql`select pg_notify(${CHANNEL}, ${payload})`.execute(trx);
      return;
    }
    // Write transactions are serialised (BEGIN IMMEDIATE), so max+1 numbers signals in commit order.
    await trx
      .insertInto('signals')
      .values((eb) => ({ seq: eb.selectFrom('signals').select(sql<number>`coalesce(max(seq), 0) + 1`.as('n')), kind: signal.kind, payload, created_at: clock.now() }))
      .execute();
  }

  /** Calls handler for every signal of a kind ('*' for all) this node receives; answers an unsubscribe function. */
  function subscribe(kind: string, handler: SignalHandler): () => void {
    if (!handlers.has(kind)) handlers.set(kind, new Set());
    handlers.get(kind)!.add(handler);
    return () => handlers.get(kind)?.delete(handler);
  }

  function dispatch(signal: Signal) {
    for (const handler of [...(handlers.get(signal.kind) ?? []), ...(handlers.get('*') ?? [])]) {
      Promise.resolve()
        .then(() => handler(signal))
        .catch((error: Error) => log.error({ err: error.message, kind: signal.kind }, 'a signal handler failed'));
    }
  }

  async function listen() {
    const client = new pg.Client({ connectionString: deps.postgresUrl });
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) dispatch(JSON.parse(message.payload) as Signal);
    });
    client.on('error', (error) => {
      log.warn({ err: error.message }, 'the signal listener lost its connection; reconnecting');
      void client.end().catch(() => undefined);
      if (listener === client) listener = null;
      if (!stopped) setTimeout(() => void listen().catch(() => undefined), 1000).unref();
    });
    await client.connect();
    await client.query(`listen ${CHANNEL}`);
    listener = client;
  }

  async function poll(state: { last: number; marker: string | null; swept: number }) {
    const marker = database.changeMarker();
    if (marker !== null && marker === state.marker) return;
    state.marker = marker;
    const rows = await database.db.selectFrom('signals').select(['seq', 'payload']).where('seq', '>', state.last).orderBy('seq').execute();
    for (const row of rows) {
      state.last = row.seq;
      dispatch(JSON.parse(row.payload) as Signal);
    }
    if (clock.now() - state.swept > 60_000) {
      state.swept = clock.now();
      await database.db.deleteFrom('signals').where('created_at', '<', clock.now() - RETAIN_MS).where('seq', '<', state.last).execute();
    }
  }

  /** Starts receiving signals published from now on, by any node or process. */
  async function start(): Promise<void> {
    stopped = false;
    if (database.dialect === 'postgres') return listen();
    const newest = await database.db.selectFrom('signals').select(sql<number>`coalesce(max(seq), 0)`.as('n')).executeTakeFirstOrThrow();
    const state = { last: Number(newest.n), marker: database.changeMarker(), swept: clock.now() };
    const tick = () => {
      timer = setTimeout(() => {
        poll(state).catch((error: Error) => log.warn({ err: error.message }, 'reading signals failed')).finally(() => {
          if (!stopped) tick();
        });
      }, POLL_MS);
      timer.unref();
    };
    tick();
  }

  /** Stops receiving. */
  async function stop(): Promise<void> {
    stopped = true;
    if (timer) clearTimeout(timer);
    const client = listener;
    listener = null;
    await client?.end().catch(() => undefined);
  }

  return { publish, subscribe, start, stop };
}
export type Signals = ReturnType<typeof createSignals>;
