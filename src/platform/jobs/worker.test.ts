import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.js';
import { createLogger } from '../log.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';
import { createJobQueue, type JobQueue } from './queue.js';
import { createJobWorker, type JobHandler, type JobWorker } from './worker.js';
import { sleep, waitFor } from './fixtures/wait.js';

const log = createLogger({ level: 'silent' });
const quickRetry = { baseMs: 10, maxMs: 10 };

describe.each(dialects)('job worker on %s', (dialect) => {
  let target: TestDatabase;
  const workers: JobWorker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop(1_000)));
    await target?.drop();
  });

  async function setup(handlers: Record<string, JobHandler>, options: { leaseMs?: number; concurrency?: number } = {}) {
    target = await createTestDatabase(dialect);
    const { db } = await target.open();
    const queue = createJobQueue({ db, dialect, clock: systemClock, backoff: quickRetry });
    const worker = createJobWorker({ queue, handlers, owner: 'w1', log, clock: systemClock, pollMs: 20, ...options });
    workers.push(worker);
    return { queue, worker };
  }

  const statusOf = async (queue: JobQueue, id: string) => (await queue.get(id))?.status;

  it('runs due jobs through their handlers, several at a time, and marks them succeeded', async () => {
    const seen: number[] = [];
    let concurrent = 0;
    let peak = 0;
    const { queue, worker } = await setup(
      {
        count: async (job) => {
          concurrent += 1;
          peak = Math.max(peak, concurrent);
          await sleep(30);
          seen.push((job.payload as { n: number }).n);
          concurrent -= 1;
        },
      },
      { concurrency: 3 },
    );
    for (let n = 0; n < 9; n += 1) await queue.enqueue({ kind: 'count', payload: { n } });
    worker.start();
    await waitFor(async () => (await queue.list({ status: 'succeeded' })).length === 9, 10_000, 'all jobs succeed');
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(peak).toBe(3);
  });

  it('records only the message of a handler error as last_error, and retries until the job succeeds', async () => {
    let calls = 0;
    const { queue, worker } = await setup({
      flaky: async () => {
        calls += 1;
        if (calls < 3) throw new Error(`peer unreachable (${calls})`);
      },
      broken: async () => {
        throw new TypeError('cannot read the thing');
      },
    });
    const flaky = await queue.enqueue({ kind: 'flaky' });
    const broken = await queue.enqueue({ kind: 'broken', maxAttempts: 2 });
    worker.start();
    await waitFor(async () => (await statusOf(queue, flaky.job.id)) === 'succeeded', 10_000, 'flaky job succeeds');
    await waitFor(async () => (await statusOf(queue, broken.job.id)) === 'failed', 10_000, 'broken job fails');
    expect(await queue.get(flaky.job.id)).toMatchObject({ attempts: 3, lastError: 'peer unreachable (2)' });
    expect(await queue.get(broken.job.id)).toMatchObject({ attempts: 2, lastError: 'cannot read the thing' });
  });

  it('fails a job of an unknown kind at once with an error naming the kind', async () => {
    const { queue, worker } = await setup({});
    const { job } = await queue.enqueue({ kind: 'from.the.future' });
    worker.start();
    await waitFor(async () => (await statusOf(queue, job.id)) === 'failed', 10_000, 'unknown kind fails');
    expect(await queue.get(job.id)).toMatchObject({ attempts: 1, lastError: 'no handler registered for job kind "from.the.future"' });
  });

  it('keeps a long job leased by heartbeating, so no other worker claims it', async () => {
    let started = false;
    const { queue, worker } = await setup(
      {
        long: async () => {
          started = true;
          await sleep(1_000);
        },
      },
      { leaseMs: 300 },
    );
    const { job } = await queue.enqueue({ kind: 'long' });
    worker.start();
    await waitFor(() => started, 5_000, 'job starts');
    for (let i = 0; i < 8; i += 1) {
      expect(await queue.claim('intruder', 300)).toBeNull();
      await sleep(100);
    }
    await waitFor(async () => (await statusOf(queue, job.id)) === 'succeeded', 5_000, 'long job succeeds');
    expect(await queue.get(job.id)).toMatchObject({ attempts: 1 });
  });

  it('aborts the handler of a job cancelled while it runs, and does not record it succeeded', async () => {
    let signal: AbortSignal | undefined;
    const { queue, worker } = await setup(
      {
        long: async (_job, ctx) => {
          signal = ctx.signal;
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
        },
      },
      { leaseMs: 150 },
    );
    const { job } = await queue.enqueue({ kind: 'long' });
    worker.start();
    await waitFor(() => signal !== undefined, 5_000, 'job starts');
    expect(await queue.cancel(job.id)).toBe(true);
    await waitFor(() => signal!.aborted, 5_000, 'handler is aborted');
    await waitFor(() => worker.inFlight() === 0, 5_000, 'handler returns');
    expect(await statusOf(queue, job.id)).toBe('cancelled');
  });

  it('waits on stop for in-flight jobs to finish, and gives up after its timeout', async () => {
    const { queue, worker } = await setup({ slow: (job) => sleep((job.payload as { ms: number }).ms) }, { concurrency: 2 });
    const quick = await queue.enqueue({ kind: 'slow', payload: { ms: 300 } });
    worker.start();
    await waitFor(() => worker.inFlight() === 1, 5_000, 'job starts');
    expect(await worker.stop(5_000)).toBe(true);
    expect(await statusOf(queue, quick.job.id)).toBe('succeeded');

    const stuck = await queue.enqueue({ kind: 'slow', payload: { ms: 2_000 } });
    worker.start();
    await waitFor(() => worker.inFlight() === 1, 5_000, 'job starts');
    expect(await worker.stop(100)).toBe(false);
    expect(await statusOf(queue, stuck.job.id)).toBe('running');
  });
});

describe.runIf(dialects.includes('postgres'))('job workers on PostgreSQL', () => {
  let target: TestDatabase;
  afterEach(async () => target?.drop());

  it('two workers on PostgreSQL never run one job twice', async () => {
    target = await createTestDatabase('postgres');
    const runs = new Map<string, number>();
    const byWorker = { a: 0, b: 0 };
    const workers = await Promise.all(
      (['a', 'b'] as const).map(async (name, i) => {
        // Each worker has its own pool, as it would on its own node.
        const { db } = await target.open({ migrate: i === 0, poolSize: 5 });
        const queue = createJobQueue({ db, dialect: 'postgres', clock: systemClock });
        const handlers: Record<string, JobHandler> = {
          once: async (job) => {
            runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
            byWorker[name] += 1;
            await sleep(Math.random() * 4);
          },
        };
        return { queue, worker: createJobWorker({ queue, handlers, owner: name, log, clock: systemClock, pollMs: 10, concurrency: 4 }) };
      }),
    );
    const { queue } = workers[0]!;
    const ids: string[] = [];
    for (let n = 0; n < 200; n += 1) ids.push((await queue.enqueue({ kind: 'once', payload: { n } })).job.id);
    workers.forEach(({ worker }) => worker.start());
    try {
      await waitFor(async () => (await queue.list({ status: 'succeeded', limit: 1_000 })).length === 200, 30_000, 'all 200 jobs succeed');
    } finally {
      await Promise.all(workers.map(({ worker }) => worker.stop(5_000)));
    }
    expect(ids.filter((id) => runs.get(id) !== 1)).toEqual([]);
    expect(runs.size).toBe(200);
    expect((await queue.list({ limit: 1_000 })).every((job) => job.attempts === 1)).toBe(true);
    expect(byWorker.a).toBeGreaterThan(0);
    expect(byWorker.b).toBeGreaterThan(0);
  });
});
