import { SYSTEM_SCOPE } from '../../platform/actor.js';
import type { Schedule } from '../../platform/jobs/index.js';
import type { Logger } from '../../platform/log.js';
import type { CheckpointService } from './checkpoints.service.js';

const CHECKPOINT_KIND = 'audit.checkpoint-heads';

/** Every 10 minutes the leader signs a checkpoint for each tenant whose chain head moved since its last one. */
export const auditSchedules: Schedule[] = [{ name: CHECKPOINT_KIND, cron: '*/10 * * * *', kind: CHECKPOINT_KIND }];

/** The job handlers the audit trail registers with the worker. */
export function auditJobHandlers(deps: { checkpoints: CheckpointService; log: Logger }) {
  return {
    [CHECKPOINT_KIND]: async () => {
      const outcome = await deps.checkpoints.checkpointMovedHeads(SYSTEM_SCOPE);
      if (outcome.signed > 0 || outcome.failed > 0) deps.log.info(outcome, 'signed audit checkpoints');
    },
  };
}
