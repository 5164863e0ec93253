import { systemActor } from '../../platform/actor.js';
import type { Schedule } from '../../platform/jobs/index.js';
import type { Logger } from '../../platform/log.js';
import type { SnapshotService } from './snapshots.service.js';

const DAILY_KIND = 'snapshots.daily';

/** The scheduled system snapshot, leader-only (CUSTOS_SNAPSHOT_SCHEDULE, default daily at 03:00 UTC). */
export const snapshotSchedules = (cron: string): Schedule[] => [{ name: DAILY_KIND, cron, kind: DAILY_KIND, maxAttempts: 2 }];

/** Takes the scheduled snapshot, then keeps only the newest `keep` scheduled ones. */
export function snapshotJobHandlers(deps: { snapshots: SnapshotService; keep: number; log: Logger }) {
  return {
    [DAILY_KIND]: async () => {
      const taken = await deps.snapshots.create(systemActor, { reason: 'scheduled' });
      const removed = deps.snapshots.prune(deps.keep);
      deps.log.info({ snapshotId: taken.id, bytes: taken.bytes, rows: taken.rows, seconds: taken.seconds, removed }, 'took the scheduled snapshot');
    },
  };
}
