import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import type { Logger } from '../../platform/log.js';
import type { Schedule } from '../../platform/jobs/index.js';
import { deleteActivationTokensEndedBefore } from './activation.store.js';
import { deleteSessionsEndedBefore } from './sessions.store.js';

const PURGE_KIND = 'identity.purge-ended';
// Ended rows stay a day (sessions) or a week (activation tokens) so support can still see why a token failed.
const SESSION_GRACE_MS = 24 * 3600_000;
const ACTIVATION_GRACE_MS = 7 * 24 * 3600_000;

/** Identity's periodic work: purge ended sessions and activation tokens every 15 minutes. */
export const identitySchedules: Schedule[] = [{ name: PURGE_KIND, cron: '*/15 * * * *', kind: PURGE_KIND }];

/** The job handlers identity registers with the worker. */
export function identityJobHandlers(deps: { db: Db; clock: Clock; log: Logger }) {
  return {
    [PURGE_KIND]: async () => {
      const now = deps.clock.now();
      const sessions = await deleteSessionsEndedBefore(deps.db, now - SESSION_GRACE_MS);
      const activations = await deleteActivationTokensEndedBefore(deps.db, now - ACTIVATION_GRACE_MS);
      deps.log.info({ sessions, activations }, 'purged ended sessions and activation tokens');
    },
  };
}
