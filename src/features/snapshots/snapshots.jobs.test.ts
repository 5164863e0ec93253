import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { loadConfig } from '../../main/config.js';
import { createLogger } from '../../platform/log.js';
import { snapshotJobHandlers, snapshotSchedules } from './snapshots.jobs.js';

describe.each(dialects)('scheduled snapshots on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t.close());

  it('the daily job takes a system snapshot and keeps only the newest scheduled ones; manual snapshots stay', async () => {
    const snapshots = t.runtime.services.snapshots;
    const manual = await snapshots.create({ kind: 'operator', id: 'cli:test', ip: null });
    const handlers = snapshotJobHandlers({ snapshots, keep: 2, log: createLogger({ level: 'silent' }) });
    const run = handlers['snapshots.daily'] as () => Promise<void>;
    for (let i = 0; i < 4; i += 1) {
      t.clock.advance(86_400_000);
      await run();
    }
    const listed = snapshots.list();
    expect(listed.filter((s) => s.reason === 'scheduled')).toHaveLength(2);
    expect(listed.map((s) => s.id)).toContain(manual.id);
    // The two kept are the newest.
    const scheduled = listed.filter((s) => s.reason === 'scheduled').map((s) => s.createdAt);
    expect(scheduled[0]! > scheduled[1]!).toBe(true);
    expect(new Date(scheduled[1]!).getTime()).toBe(t.clock.now() - 86_400_000);
  });

  it('runs daily at 03:00 UTC unless CUSTOS_SNAPSHOT_SCHEDULE says otherwise; a malformed schedule stops start-up', () => {
    expect(snapshotSchedules(loadConfig({}, {}).snapshotSchedule)).toEqual([expect.objectContaining({ cron: '0 3 * * *', kind: 'snapshots.daily' })]);
    expect(loadConfig({}, { CUSTOS_SNAPSHOT_SCHEDULE: '30 1 * * 0' }).snapshotSchedule).toBe('30 1 * * 0');
    expect(() => loadConfig({}, { CUSTOS_SNAPSHOT_SCHEDULE: 'every day' })).toThrow(/CUSTOS_SNAPSHOT_SCHEDULE/);
  });
});
