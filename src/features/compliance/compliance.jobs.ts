import type { Logger } from '../../platform/log.js';
import type { Schedule } from '../../platform/jobs/index.js';
import type { ComplianceService } from './compliance.service.js';

const KEEP_KIND = 'compliance.keep-daily';

/** Compliance's periodic work, leader-only: keep each tenant's report daily at 04:00 UTC (after identity's 02:00 inactivity run). */
export const complianceSchedules: Schedule[] = [{ name: KEEP_KIND, cron: '0 4 * * *', kind: KEEP_KIND }];

/** The job handlers compliance registers with the worker. */
export function complianceJobHandlers(deps: { compliance: ComplianceService; log: Logger }) {
  return {
    [KEEP_KIND]: async () => {
      const kept = await deps.compliance.keepDaily();
      deps.log.info({ tenants: kept }, 'kept the daily compliance reports');
    },
  };
}
