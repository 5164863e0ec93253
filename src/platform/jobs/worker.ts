import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Job, ClaimedJob } from './job.types.js';
import type { JobQueue } from './queue.js';

/** What a handler gets besides its job: signal aborts when the job was lost (lease taken, cancelled, shutdown). */
export interface JobContext {
  signal: AbortSignal;
  attempt: number;
  log: Logger;
}

/** Runs one job; throwing records the error's message and retries. Jobs are at-least-once: be idempotent. */
export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>;

interface Running {
  job: ClaimedJob;
  controller: AbortController;
  done: Promise<void>;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return typeof error === 'string' ? error : 'handler failed with a non-Error value';
}

/**
 * Claims due jobs and runs them, at most `concurrency` at a time, heartbeating each lease every leaseMs/3 so
 * a live worker keeps its jobs and a dead one's jobs are claimed by others once leaseMs passes.
 */
export function createJobWorker(deps: {
  queue: Pick<JobQueue, 'claim' | 'heartbeat' | 'complete' | 'fail'>;
  handlers: Record<string, JobHandler>;
  owner: string;
  log: Logger;
  clock: Clock;
  leaseMs?: number;
  pollMs?: number;
  concurrency?: number;
}) {
  const { queue, handlers, owner, clock } = deps;
  const leaseMs = deps.leaseMs ?? 60_000;
  const pollMs = deps.pollMs ?? 1_000;
  const concurrency = deps.concurrency ?? 4;
  const log = deps.log.child({ component: 'jobs.worker', owner });
  const running = new Map<string, Running>();
  let active = false;
  let loop: Promise<void> | null = null;
  let heartbeatTimer: NodeJS.Timeout | null = null;
  let wake: (() => void) | null = null;

  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => wake?.(), ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  async function execute(job: ClaimedJob, controller: AbortController): Promise<void> {
    const jobLog = log.child({ jobId: job.id, kind: job.kind, attempt: job.attempts });
    const handler = Object.hasOwn(handlers, job.kind) ? handlers[job.kind] : undefined;
    if (!handler) {
      // Retrying cannot help a node that does not know the kind, so the job fails at once and says why.
      await queue.fail(job.lease, `no handler registered for job kind "${job.kind}"`, { permanent: true });
      jobLog.error('job has an unknown kind');
      return;
    }
    const started = clock.now();
    try {
      await handler(job, { signal: controller.signal, attempt: job.attempts, log: jobLog });
    } catch (error) {
      const after = await queue.fail(job.lease, messageOf(error));
      jobLog.warn({ err: messageOf(error), status: after?.status ?? 'lost', ms: clock.now() - started }, 'job failed');
      return;
    }
    if (await queue.complete(job.lease)) jobLog.debug({ ms: clock.now() - started }, 'job succeeded');
    else jobLog.warn('job finished after its lease was lost; the result was not recorded');
  }

  function launch(job: ClaimedJob): void {
    const controller = new AbortController();
    const done = execute(job, controller)
      // A store error here leaves the lease to expire, so another claim runs the job again.
      .catch((error: unknown) => log.error({ jobId: job.id, err: messageOf(error) }, 'could not record job outcome'))
      .finally(() => {
        running.delete(job.id);
        wake?.();
      });
    running.set(job.id, { job, controller, done });
  }

  async function beat(): Promise<void> {
    await Promise.all(
      [...running.values()].map(async ({ job, controller }) => {
        try {
          if (!(await queue.heartbeat(job.lease, leaseMs))) {
            log.warn({ jobId: job.id }, 'job lease lost (expired and re-claimed, or cancelled); aborting it');
            controller.abort(new Error('job lease lost'));
          }
        } catch (error) {
          log.warn({ jobId: job.id, err: messageOf(error) }, 'heartbeat failed; will retry');
        }
      }),
    );
  }

  async function run(): Promise<void> {
    while (active) {
      let claimed = false;
      if (running.size < concurrency) {
        try {
          const job = await queue.claim(owner, leaseMs);
          // Launched even when stop() came meanwhile: stop() waits for it rather than leaving a claimed job idle.
          if (job) launch(job);
          claimed = job !== null;
        } catch (error) {
          log.error({ err: messageOf(error) }, 'could not claim jobs; retrying');
        }
      }
      // Drain without pausing while work is due and slots are free; otherwise wait for a slot or the next poll.
      if (active && (!claimed || running.size >= concurrency)) await nap(pollMs);
    }
  }

  return {
    /** Starts polling; idempotent. */
    start(): void {
      if (active) return;
      active = true;
      heartbeatTimer = setInterval(() => void beat(), Math.max(1, Math.floor(leaseMs / 3)));
      loop = run();
    },

    /**
     * Stops claiming and waits up to timeoutMs for running jobs; answers false if some were still running,
     * in which case their handlers are aborted and their leases left to expire for another worker.
     */
    async stop(timeoutMs = 30_000): Promise<boolean> {
      active = false;
      wake?.();
      await loop;
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        Promise.all([...running.values()].map((r) => r.done)).then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      heartbeatTimer = null;
      if (!drained) for (const r of running.values()) r.controller.abort(new Error('worker stopped'));
      return drained;
    },

    /** How many jobs this worker is running now. */
    inFlight: (): number => running.size,
  };
}

/** A running job worker. */
export type JobWorker = ReturnType<typeof createJobWorker>;
