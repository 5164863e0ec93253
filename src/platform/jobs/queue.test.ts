import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';
import { createJobQueue } from './queue.js';

const lease = 30_000;

describe.each(dialects)('job queue on %s', (dialect) => {
  let target: TestDatabase;
  afterEach(async () => target?.drop());

  async function setup(options: { random?: () => number } = {}) {
    target = await createTestDatabase(dialect);
    const { db } = await target.open();
    const clock = createManualClock(Date.UTC(2025, 0, 1));
    const queue = createJobQueue({ db, dialect, clock, random: options.random ?? (() => 1) });
    return { db, clock, queue };
  }

  it('runs an enqueued job once: claimed with a lease, then completed', async () => {
    const { queue, clock } = await setup();
    const { job, created } = await queue.enqueue({ kind: 'mail.send', payload: { to: 'a@example.test' }, tenantId: 't1' });
    expect(created).toBe(true);
    const claimed = await queue.claim('w1', lease);
    expect(claimed).toMatchObject({ id: job.id, status: 'running', attempts: 1, leaseOwner: 'w1', payload: { to: 'a@example.test' } });
    expect(claimed!.leaseExpiresAt).toBe(clock.now() + lease);
    expect(await queue.claim('w2', lease)).toBeNull();
    clock.advance(5);
    expect(await queue.complete(claimed!.lease)).toBe(true);
    expect(await queue.get(job.id)).toMatchObject({ status: 'succeeded', attempts: 1, leaseOwner: null, finishedAt: clock.now() });
    expect(await queue.claim('w2', lease)).toBeNull();
  });

  it('does not claim a job before its run_at, and claims the oldest due job first', async () => {
    const { queue, clock } = await setup();
    const later = await queue.enqueue({ kind: 'k', runAt: clock.now() + 60_000 });
    const first = await queue.enqueue({ kind: 'k', runAt: clock.now() - 10 });
    const second = await queue.enqueue({ kind: 'k' });
    for (const expected of [first, second]) {
      const claimed = await queue.claim('w', lease);
      expect(claimed!.id).toBe(expected.job.id);
      await queue.complete(claimed!.lease);
    }
    expect(await queue.claim('w', lease)).toBeNull();
    clock.advance(60_000);
    expect((await queue.claim('w', lease))!.id).toBe(later.job.id);
  });

  it('retries a failing job with exponential backoff, then marks it failed after max attempts', async () => {
    const { queue, clock } = await setup();
    const { job } = await queue.enqueue({ kind: 'k', maxAttempts: 3 });
    for (const [attempt, delay] of [[1, 1_000], [2, 2_000]] as const) {
      const claimed = await queue.claim('w', lease);
      expect(claimed!.attempts).toBe(attempt);
      const after = await queue.fail(claimed!.lease, `boom ${attempt}`);
      expect(after).toMatchObject({ status: 'queued', lastError: `boom ${attempt}`, runAt: clock.now() + delay, leaseOwner: null });
      clock.advance(delay - 1);
      expect(await queue.claim('w', lease)).toBeNull();
      clock.advance(1);
    }
    const last = await queue.claim('w', lease);
    expect(await queue.fail(last!.lease, 'boom 3')).toMatchObject({ status: 'failed', attempts: 3, lastError: 'boom 3', finishedAt: clock.now() });
    clock.advance(3_600_000);
    expect(await queue.claim('w', lease)).toBeNull();
    expect(await queue.get(job.id)).toMatchObject({ status: 'failed', attempts: 3 });
  });

  it('fails a job at once when the failure is permanent', async () => {
    const { queue } = await setup();
    await queue.enqueue({ kind: 'k' });
    const claimed = await queue.claim('w', lease);
    expect(await queue.fail(claimed!.lease, 'no handler', { permanent: true })).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('enqueues a uniqueKey once and returns the existing job on the second enqueue', async () => {
    const { queue } = await setup();
    const first = await queue.enqueue({ kind: 'k', payload: { n: 1 }, uniqueKey: 'sweep@2025-01-01T00:00:00.000Z' });
    const again = await queue.enqueue({ kind: 'k', payload: { n: 2 }, uniqueKey: 'sweep@2025-01-01T00:00:00.000Z' });
    expect(again).toEqual({ job: first.job, created: false });
    await queue.enqueue({ kind: 'k' });
    await queue.enqueue({ kind: 'k' });
    expect(await queue.list()).toHaveLength(3);
  });

  it('enqueues inside the caller transaction, so a rolled-back cause leaves no job', async () => {
    const { queue, db } = await setup();
    await expect(
      db.transaction().execute(async (trx) => {
        await queue.enqueue({ kind: 'k' }, trx);
        expect(await queue.list({}, trx)).toHaveLength(1);
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await queue.list()).toHaveLength(0);
  });

  it('claims again a job whose lease expired while running, and fences out the worker that lost it', async () => {
    const { queue, clock } = await setup();
    const { job } = await queue.enqueue({ kind: 'k' });
    const lost = await queue.claim('w1', lease);
    clock.advance(lease - 1);
    expect(await queue.claim('w2', lease)).toBeNull();
    clock.advance(1);
    const taken = await queue.claim('w2', lease);
    expect(taken).toMatchObject({ id: job.id, attempts: 2, leaseOwner: 'w2' });
    expect(await queue.heartbeat(lost!.lease, lease)).toBe(false);
    expect(await queue.complete(lost!.lease)).toBe(false);
    expect(await queue.fail(lost!.lease, 'late')).toBeNull();
    expect(await queue.get(job.id)).toMatchObject({ status: 'running', leaseOwner: 'w2', lastError: null });
    expect(await queue.complete(taken!.lease)).toBe(true);
  });

  it('fences a stale claim by attempt even when the same owner re-claims the job', async () => {
    const { queue, clock } = await setup();
    await queue.enqueue({ kind: 'k' });
    const first = await queue.claim('w', lease);
    clock.advance(lease);
    const second = await queue.claim('w', lease);
    expect(await queue.complete(first!.lease)).toBe(false);
    expect(await queue.complete(second!.lease)).toBe(true);
  });

  it('keeps a job leased while its owner heartbeats', async () => {
    const { queue, clock } = await setup();
    await queue.enqueue({ kind: 'k' });
    const claimed = await queue.claim('w1', lease);
    for (let i = 0; i < 3; i += 1) {
      clock.advance(lease - 1_000);
      expect(await queue.heartbeat(claimed!.lease, lease)).toBe(true);
      expect(await queue.claim('w2', lease)).toBeNull();
    }
  });

  it('fails rather than reruns a job whose lease expired on its last attempt', async () => {
    const { queue, clock } = await setup();
    const { job } = await queue.enqueue({ kind: 'k', maxAttempts: 2 });
    await queue.claim('w1', lease);
    clock.advance(lease);
    expect((await queue.claim('w2', lease))!.attempts).toBe(2);
    clock.advance(lease);
    expect(await queue.claim('w3', lease)).toBeNull();
    const failed = await queue.get(job.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, leaseOwner: null });
    expect(failed!.lastError).toMatch(/lease expired/);
  });

  it('cancels a queued job so it never runs, and a running one so its worker is fenced out', async () => {
    const { queue } = await setup();
    const queued = await queue.enqueue({ kind: 'k', tenantId: 't1' });
    expect(await queue.cancel(queued.job.id, 't2')).toBe(false);
    expect(await queue.cancel(queued.job.id, 't1')).toBe(true);
    expect(await queue.claim('w', lease)).toBeNull();
    await queue.enqueue({ kind: 'k' });
    const running = await queue.claim('w', lease);
    expect(await queue.cancel(running!.id)).toBe(true);
    expect(await queue.heartbeat(running!.lease, lease)).toBe(false);
    expect(await queue.complete(running!.lease)).toBe(false);
    expect(await queue.get(running!.id)).toMatchObject({ status: 'cancelled' });
    expect(await queue.cancel(running!.id)).toBe(false);
  });

  it('shows visible state scoped by tenant, kind and status', async () => {
    const { queue, clock } = await setup();
    const a = await queue.enqueue({ kind: 'a', tenantId: 't1' });
    clock.advance(1);
    await queue.enqueue({ kind: 'b', tenantId: 't2' });
    clock.advance(1);
    await queue.enqueue({ kind: 'c' });
    expect(await queue.get(a.job.id, 't2')).toBeNull();
    expect(await queue.get(a.job.id, 't1')).toMatchObject({ kind: 'a', status: 'queued', attempts: 0, lastError: null });
    expect((await queue.list({ tenantId: 't1' })).map((j) => j.kind)).toEqual(['a']);
    expect((await queue.list({ tenantId: null })).map((j) => j.kind)).toEqual(['c']);
    expect((await queue.list({ kind: 'b' })).map((j) => j.tenantId)).toEqual(['t2']);
    expect((await queue.list({ status: 'queued', limit: 2 })).map((j) => j.kind)).toEqual(['c', 'b']);
  });

  it('refuses a job without a kind or with a non-positive maxAttempts', async () => {
    const { queue } = await setup();
    await expect(queue.enqueue({ kind: '' })).rejects.toMatchObject({ code: 'JOB_KIND_REQUIRED' });
    await expect(queue.enqueue({ kind: 'k', maxAttempts: 0 })).rejects.toMatchObject({ code: 'JOB_MAX_ATTEMPTS' });
  });
});
