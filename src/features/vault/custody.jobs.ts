import type { Logger } from '../../platform/log.js';
import type { Schedule } from '../../platform/jobs/index.js';
import type { CustodyService } from './custody.service.js';

const EXPIRE_KIND = 'vault.custody-expire';

/** Custody's periodic work: every minute the leader checks in the leases that have run out. */
export const custodySchedules: Schedule[] = [{ name: EXPIRE_KIND, cron: '* * * * *', kind: EXPIRE_KIND }];

/** The job handlers custody registers with the worker. */
export function custodyJobHandlers(deps: { custody: Pick<CustodyService, 'expireDue'>; log: Logger }) {
  return {
    [EXPIRE_KIND]: async () => {
      const released = await deps.custody.expireDue();
      if (released > 0) deps.log.info({ released }, 'checked in expired checkouts');
    },
  };
}
