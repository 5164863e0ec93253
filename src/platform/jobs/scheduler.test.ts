import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock, systemClock, type Clock } from '../clock.js';
import { createLogger } from '../log.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';
import { createJobQueue, type JobQueue } from './queue.js';
import { createScheduler, type Schedule } from './scheduler.js';
import { sleep } from './fixtures/wait.js';

const log = createLogger({ level: 'silent' });
const sweep: Schedule = { name: 'sweep', cron: '*/10 * * * * *', kind: 'sessions.sweep', payload: { batch: 100 } };
const leading = { isLeader: () => true };

describe.each(dialects)('scheduler on %s', (dialect) => {
  let target: TestDatabase;
  afterEach(async () => target?.drop());

  /** Two nodes: each with its own connection to the same database. */
  async function twoQueues(clock: Clock): Promise<[JobQueue, JobQueue]> {
    target = await createTestDatabase(dialect);
    const a = await target.open();
    const b = await target.open({ migrate: false });
    return [createJobQueue({ db: a.db, dialect, clock }), createJobQueue({ db: b.db, dialect, clock })];
  }

  const keys = async (queue: JobQueue) => (await queue.list()).map((job) => job.uniqueKey).sort();

  it('enqueues each due slot once, even when two schedulers both believe they lead', async () => {
    const clock = createManualClock(Date.parse('2025-01-01T00:00:05.250Z'));
    const [qa, qb] = await twoQueues(clock);
    const a = createScheduler({ leader: leading, queue: qa, schedules: [sweep], clock, log });
    const b = createScheduler({ leader: leading, queue: qb, schedules: [sweep], clock, log });
    const both = async () => (await Promise.all([a.tick(), b.tick()])).reduce((x, y) => x + y);

    expect(await both()).toBe(1);
    expect(await both()).toBe(0);
    clock.set(Date.parse('2025-01-01T00:00:10.000Z'));
    expect(await both()).toBe(1);
    clock.set(Date.parse('2025-01-01T00:00:35.000Z'));
    expect(await both()).toBe(1);
    expect(await keys(qa)).toEqual(['sweep@2025-01-01T00:00:00.000Z', 'sweep@2025-01-01T00:00:10.000Z', 'sweep@2025-01-01T00:00:30.000Z']);
    expect((await qa.list())[0]).toMatchObject({ kind: 'sessions.sweep', payload: { batch: 100 }, tenantId: null, status: 'queued' });
  });

  it('enqueues nothing on a follower, and a new leader catches up only on a recent missed slot', async () => {
    const clock = createManualClock(Date.parse('2025-01-01T00:00:13.000Z'));
    const [queue] = await twoQueues(clock);
    let leader = false;
    const scheduler = createScheduler({ leader: { isLeader: () => leader }, queue, schedules: [sweep], clock, log, catchUpMs: 5_000 });
    expect(await scheduler.tick()).toBe(0);
    leader = true;
    expect(await scheduler.tick()).toBe(1);
    expect(await keys(queue)).toEqual(['sweep@2025-01-01T00:00:10.000Z']);

    leader = false;
    clock.set(Date.parse('2025-01-01T00:00:26.000Z'));
    expect(await scheduler.tick()).toBe(0);
    leader = true;
    expect(await scheduler.tick()).toBe(0);
    clock.set(Date.parse('2025-01-01T00:00:30.000Z'));
    expect(await scheduler.tick()).toBe(1);
    expect(await keys(queue)).toEqual(['sweep@2025-01-01T00:00:10.000Z', 'sweep@2025-01-01T00:00:30.000Z']);
  });

  it('ticks on its own timer once started, one job per second slot across two schedulers', async () => {
    const [qa, qb] = await twoQueues(systemClock);
    const everySecond: Schedule = { name: 'beat', cron: '* * * * * *', kind: 'beat' };
    const schedulers = [qa, qb].map((queue) =>
      createScheduler({ leader: leading, queue, schedules: [everySecond], clock: systemClock, log, tickMs: 100, catchUpMs: 0 }),
    );
    schedulers.forEach((s) => s.start());
    await sleep(2_300);
    await Promise.all(schedulers.map((s) => s.stop()));
    const slots = (await keys(qa)).map((key) => Date.parse(key!.split('@')[1]!));
    expect(slots.length).toBeGreaterThanOrEqual(2);
    expect(slots.length).toBeLessThanOrEqual(3);
    slots.slice(1).forEach((slot, i) => expect(slot - slots[i]!).toBe(1_000));
  });
});

describe('scheduler definitions', () => {
  const queue = { enqueue: () => Promise.reject(new Error('unused')) };

  it('refuses an invalid cron pattern and a schedule name used twice', () => {
    const make = (schedules: Schedule[]) => createScheduler({ leader: leading, queue, schedules, clock: systemClock, log });
    expect(() => make([{ ...sweep, cron: 'every tuesday' }])).toThrow(/CronPattern/);
    expect(() => make([sweep, sweep])).toThrow(/defined twice/);
  });
});
