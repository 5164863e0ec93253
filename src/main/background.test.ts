import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.js';
import { dialects } from '../../test/support/databases.js';
import { startBackgroundWork } from './background.js';

describe.each(dialects)('background work on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it("a lone node leads, enqueues the housekeeping slot once and runs it", async () => {
    const background = await startBackgroundWork(t.runtime);
    try {
      const deadline = Date.now() + 10_000;
      while (!background.leader.isLeader() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(background.leader.isLeader()).toBe(true);
      // The manual clock sits on a 15-minute boundary, so the current slot is due.
      await background.scheduler.tick();
      await background.scheduler.tick();
      const jobs = await background.queue.list({ kind: 'identity.purge-ended' });
      expect(jobs).toHaveLength(1);
      while (Date.now() < deadline && (await background.queue.get(jobs[0]!.id))?.status !== 'succeeded') await new Promise((r) => setTimeout(r, 100));
      expect((await background.queue.get(jobs[0]!.id))?.status).toBe('succeeded');
    } finally {
      await background.stop();
    }
  });
});
