import { Cron } from 'croner';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { JobQueue } from './queue.js';

/** One piece of periodic work: at each slot of cron (croner syntax, UTC; six fields for seconds) a job of kind. */
export interface Schedule {
  name: string;
  cron: string;
  kind: string;
  payload?: unknown;
  maxAttempts?: number;
}

/**
 * Turns schedules into jobs, on the leader only. Each slot's job carries the unique key `${name}@${slotIso}`,
 * so two nodes that both believe they lead during a hand-over, or a new leader catching up on the slot the
 * old one may already have enqueued, still produce one job per slot.
 */
export function createScheduler(deps: {
  leader: { isLeader(): boolean };
  queue: Pick<JobQueue, 'enqueue'>;
  schedules: Schedule[];
  clock: Clock;
  log: Logger;
  tickMs?: number;
  /** On gaining leadership, a slot this recent that no one enqueued (the old leader died first) still runs. */
  catchUpMs?: number;
}) {
  const { leader, queue, clock } = deps;
  const tickMs = deps.tickMs ?? 1_000;
  const catchUpMs = deps.catchUpMs ?? 60_000;
  const log = deps.log.child({ component: 'jobs.scheduler' });
  const names = new Set<string>();
  const entries = deps.schedules.map((schedule) => {
    if (names.has(schedule.name)) throw new Error(`schedule "${schedule.name}" is defined twice`);
    names.add(schedule.name);
    // Without a callback croner only computes times; this module owns the timer so it can consult the leader.
    return { schedule, cron: new Cron(schedule.cron, { timezone: 'UTC' }), after: null as number | null };
  });
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<number> = Promise.resolve(0);

  /** The latest slot in (after, now], if any; older missed slots fold into it, since periodic work catches up. */
  function dueSlot(cron: Cron, after: number, now: number): Date | null {
    const latest = cron.previousRuns(1, new Date(now + 1))[0];
    return latest && latest.getTime() > after ? latest : null;
  }

  async function tick(): Promise<number> {
    if (!leader.isLeader()) {
      // Forget progress: after regaining leadership the catch-up window, not a stale cursor, decides.
      for (const entry of entries) entry.after = null;
      return 0;
    }
    const now = clock.now();
    let enqueued = 0;
    for (const entry of entries) {
      const slot = dueSlot(entry.cron, entry.after ?? now - catchUpMs, now);
      if (!slot) {
        entry.after ??= now - catchUpMs;
        continue;
      }
      const { name, kind, payload, maxAttempts } = entry.schedule;
      const uniqueKey = `${name}@${slot.toISOString()}`;
      try {
        const { created } = await queue.enqueue({ kind, payload, maxAttempts, uniqueKey });
        if (created) enqueued += 1;
        log.debug({ uniqueKey, created }, created ? 'enqueued scheduled job' : 'slot already enqueued');
        entry.after = slot.getTime();
      } catch (error) {
        // The cursor stays put, so the next tick tries this slot again.
        log.error({ uniqueKey, err: (error as Error).message }, 'could not enqueue scheduled job');
      }
    }
    return enqueued;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      ticking = tick().finally(() => timer && schedule());
    }, tickMs);
  }

  return {
    /** Checks every schedule once, now; answers how many jobs it added. start() calls it every tickMs. */
    tick: (): Promise<number> => {
      ticking = tick();
      return ticking;
    },

    /** Starts ticking; idempotent. */
    start(): void {
      if (timer) return;
      schedule();
    },

    /** Stops ticking and waits for a tick in progress. */
    async stop(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = null;
      await ticking.catch(() => undefined);
    },
  };
}

/** Periodic work, enqueued by the leader. */
export type Scheduler = ReturnType<typeof createScheduler>;
