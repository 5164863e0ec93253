import { startLeaderPoll } from '../../platform/jobs/leader-poll.js';
import type { Logger } from '../../platform/log.js';
import type { ConnectivityService } from './connectivity.service.js';

/** How often the leader looks for devices due a check; each tenant's interval decides which are due. */
export const CONNECTIVITY_POLL_MS = 20_000;

/**
 * The leader-only round of scheduled checks: every poll, while this node leads, the devices due a check are checked
 * with bounded concurrency, their starts spread over most of the poll period, so checks arrive at an even rate
 * and never as a burst that would hold up API requests.
 */
export function startConnectivityLoop(deps: { leader: { isLeader(): boolean }; connectivity: Pick<ConnectivityService, 'sweep'>; log: Logger; pollMs?: number; concurrency?: number }) {
  const log = deps.log.child({ component: 'connectivity' });
  const pollMs = deps.pollMs ?? CONNECTIVITY_POLL_MS;
  return startLeaderPoll({
    leader: deps.leader,
    pollMs,
    fixedRate: true,
    tick: async (live) => {
      try {
        const checked = await deps.connectivity.sweep({ concurrency: deps.concurrency, pollMs, spreadMs: pollMs * 0.9, isLeader: live });
        if (checked > 0) log.debug({ checked }, 'connectivity round done');
      } catch (error) {
        log.error({ err: (error as Error).message }, 'connectivity round failed; retrying at the next poll');
      }
    },
  });
}
