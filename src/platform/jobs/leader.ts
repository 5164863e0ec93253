import pg from 'pg';
import type { Logger } from '../log.js';

/** The advisory lock key every Custos node contends for: "custos" in ASCII, fixed so all releases agree. */
export const leaderLockKey = 0x637573746f73n;

/** Called with the new role each time this node gains or loses leadership. */
export type LeadershipListener = (isLeader: boolean) => void;

// The server drops a dead peer's session (and so its lock) after ~5 s of silence, which is what lets another
// node take over within 10 s when a leader's host vanishes without closing its socket. Settable by any user.
const sessionSettings = ['tcp_keepalives_idle = 2', 'tcp_keepalives_interval = 1', 'tcp_keepalives_count = 3', 'tcp_user_timeout = 5000'];

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Elects one leader among the nodes sharing a database. On PostgreSQL the leader holds a session advisory
 * lock on a dedicated connection (never a pooled one, which would hand the lock to whoever borrows it next),
 * so the lock dies with the leader's session; every node polls to take it, and the leader probes its
 * connection and steps down the moment it fails. On SQLite there is one node, and it always leads.
 */
export function createLeaderElector(deps: {
  dialect: 'sqlite' | 'postgres';
  /** Required on PostgreSQL. */
  postgresUrl?: string;
  log: Logger;
  pollMs?: number;
  probeTimeoutMs?: number;
  lockKey?: bigint;
}) {
  const pollMs = deps.pollMs ?? 1_000;
  const probeTimeoutMs = deps.probeTimeoutMs ?? 2_000;
  const key = String(deps.lockKey ?? leaderLockKey);
  const log = deps.log.child({ component: 'jobs.leader' });
  const listeners = new Set<LeadershipListener>();
  if (deps.dialect === 'postgres' && !deps.postgresUrl) throw new Error('leader election on PostgreSQL needs its URL');
  let leader = false;
  let active = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> = Promise.resolve();

  function setLeader(value: boolean): void {
    if (leader === value) return;
    leader = value;
    log.info({ leader: value }, value ? 'this node is now the leader' : 'this node is no longer the leader');
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (error) {
        log.error({ err: (error as Error).message }, 'leadership listener failed');
      }
    }
  }

  /** Drops the connection, and with it any lock: the server releases session locks when a session ends. */
  function dropConnection(reason: string): void {
    const dead = client;
    client = null;
    if (leader) log.warn({ reason }, 'stepping down: lost the leader connection');
    setLeader(false);
    if (dead) {
      dead.removeAllListeners('end');
      void dead.end().catch(() => undefined);
    }
  }

  async function connect(): Promise<pg.Client> {
    const fresh = new pg.Client({
      connectionString: deps.postgresUrl,
      connectionTimeoutMillis: probeTimeoutMs,
      keepAlive: true,
      application_name: 'custos-leader',
    });
    // Without an 'error' listener a dropped connection would crash the process instead of ending the term.
    fresh.on('error', (error) => client === fresh && dropConnection(error.message));
    fresh.on('end', () => client === fresh && dropConnection('connection ended'));
    try {
      await fresh.connect();
      for (const setting of sessionSettings) await fresh.query(`set ${setting}`).catch(() => undefined);
    } catch (error) {
      void fresh.end().catch(() => undefined);
      throw error;
    }
    return fresh;
  }

  async function tick(): Promise<void> {
    try {
      client ??= await connect();
      const current = client;
      if (leader) {
        await withTimeout(current.query('select 1'), probeTimeoutMs, 'leader liveness probe');
      } else {
        const attempt = current.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [key]);
        const result = await withTimeout(attempt, probeTimeoutMs, 'leader lock attempt');
        // stop() may have run while the query was in flight; a lock taken then is released with the session.
        if (result.rows[0]?.locked && active && client === current) setLeader(true);
      }
    } catch (error) {
      dropConnection((error as Error).message);
    }
  }

  function schedule(): void {
    if (!active) return;
    timer = setTimeout(() => {
      ticking = tick().finally(schedule);
    }, pollMs);
  }

  return {
    /** Starts contending; resolves after the first attempt, so a lone node is leader when this returns. */
    async start(): Promise<void> {
      if (active) return;
      active = true;
      if (deps.dialect === 'sqlite') return setLeader(true);
      ticking = tick();
      await ticking;
      schedule();
    },

    /** Stops contending and releases the lock so another node takes over at its next poll. */
    async stop(): Promise<void> {
      if (!active) return;
      active = false;
      if (timer) clearTimeout(timer);
      await ticking;
      const held = client;
      client = null;
      if (held) {
        held.removeAllListeners('end');
        if (leader) {
          const unlock = held.query('select pg_advisory_unlock($1::bigint)', [key]);
          await withTimeout(unlock, probeTimeoutMs, 'unlock').catch(() => undefined);
        }
        await held.end().catch(() => undefined);
      }
      setLeader(false);
    },

    /** True while this node leads; followers must not start periodic work. */
    isLeader: (): boolean => leader,

    /** Subscribes to leadership changes; answers the unsubscribe function. */
    onChange(listener: LeadershipListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** A node's view of the leadership. */
export type LeaderElector = ReturnType<typeof createLeaderElector>;
