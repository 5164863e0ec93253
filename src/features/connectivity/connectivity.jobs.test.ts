import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/log.js';
import { startConnectivityLoop } from './connectivity.jobs.js';

describe('the connectivity loop', () => {
  it('runs rounds only while this node leads, and stop() waits for the round in flight', async () => {
    let leading = false;
    let rounds = 0;
    let release: () => void = () => undefined;
    const loop = startConnectivityLoop({
      leader: { isLeader: () => leading },
      connectivity: { sweep: async () => (rounds += 1, await new Promise<void>((resolve) => (release = resolve)), 0) },
      log: createLogger({ level: 'silent' }),
      pollMs: 10,
    });
    await new Promise((r) => setTimeout(r, 60));
    expect(rounds).toBe(0);
    leading = true;
    await new Promise((r) => setTimeout(r, 60));
    expect(rounds).toBe(1);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(rounds).toBe(1);
  });
});
