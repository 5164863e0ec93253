import { DomainError } from '../../platform/errors.js';
import { startLeaderPoll } from '../../platform/jobs/leader-poll.js';
import type { Logger } from '../../platform/log.js';
import type { BehaviourConsumer } from './behaviour.consumer.js';

/** How often the leader looks for new audit events to score: alerts follow their cause within a few seconds. */
export const BEHAVIOUR_POLL_MS = 2_000;

/**
 * The leader-only scoring loop: every poll, while this node leads, the consumer scores every tenant's backlog.
 * It runs beside the request path (its own reads, one short write transaction per page), never inside it.
 */
export function startBehaviourLoop(deps: { leader: { isLeader(): boolean }; consumer: Pick<BehaviourConsumer, 'consume'>; log: Logger; pollMs?: number }) {
  const log = deps.log.child({ component: 'behaviour' });
  const pollMs = deps.pollMs ?? BEHAVIOUR_POLL_MS;
  return startLeaderPoll({
    leader: deps.leader,
    pollMs,
    tick: async () => {
      try {
        const done = await deps.consumer.consume();
        if (done.alerts > 0) log.info(done, 'behaviour alerts raised');
      } catch (error) {
        // Another node that led a moment ago scored the page first: nothing is lost, the next poll goes on from there.
        if (error instanceof DomainError && error.code === 'BEHAVIOUR_CURSOR_MOVED') log.debug({ err: error.message }, 'behaviour cursor moved');
        else log.error({ err: (error as Error).message }, 'behaviour scoring failed; retrying at the next poll');
      }
    },
  });
}
