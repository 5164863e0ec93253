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

  it('rounds start at a fixed rate: a long round is not followed by a full extra poll period', async () => {
    const starts: number[] = [];
    const loop = startConnectivityLoop({
      leader: { isLeader: () => true },
      connectivity: { sweep: async () => (starts.push(Date.now()), await new Promise((r) => setTimeout(r, 150)), 0) },
      log: createLogger({ level: 'silent' }),
      pollMs: 200,
    });
    await new Promise((r) => setTimeout(r, 950));
    await loop.stop();
    // Every 200 ms from the first start (not 350): four rounds by 950 ms.
    expect(starts.length).toBeGreaterThanOrEqual(4);
    const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
    expect(Math.max(...gaps)).toBeLessThan(300);
  });
});
