import type { Schedule } from '../../platform/jobs/index.js';
import type { Logger } from '../../platform/log.js';
import type { RequestLifecycle } from './access-requests.lifecycle.js';

const EXPIRE_KIND = 'access.requests-expire';

/** Every minute the leader closes undecided requests past their expiry and approvals whose window ended. */
export const accessRequestSchedules: Schedule[] = [{ name: EXPIRE_KIND, cron: '* * * * *', kind: EXPIRE_KIND }];

/** The job handlers access requests register with the worker. */
export function accessRequestJobHandlers(deps: { lifecycle: Pick<RequestLifecycle, 'expireDue'>; log: Logger }) {
  return {
    [EXPIRE_KIND]: async () => {
      const expired = await deps.lifecycle.expireDue();
      if (expired > 0) deps.log.info({ expired }, 'expired access requests');
    },
  };
}
