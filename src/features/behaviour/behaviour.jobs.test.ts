import { describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/log.js';
import { waitFor } from '../../platform/jobs/fixtures/wait.js';
import { conflict } from '../../platform/errors.js';
import { startBehaviourLoop } from './behaviour.jobs.js';

const log = createLogger({ level: 'silent' });

describe('the behaviour scoring loop', () => {
  it('scores only while this node leads, keeps going after a failed pass, and stops', async () => {
    let leading = false;
    let passes = 0;
    const consumer = {
      consume: async () => {
        passes += 1;
        if (passes === 1) throw conflict('BEHAVIOUR_CURSOR_MOVED', 'another node was first');
        if (passes === 2) throw new Error('database went away');
        return { tenants: 1, scored: 1, alerts: 0 };
      },
    };
    const loop = startBehaviourLoop({ leader: { isLeader: () => leading }, consumer, log, pollMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(passes).toBe(0);
    leading = true;
    await waitFor(async () => passes >= 4, 2_000, 'passes after failures');
    await loop.stop();
    const stoppedAt = passes;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(passes).toBe(stoppedAt);
  });
});
