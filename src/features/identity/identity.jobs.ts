import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import type { Logger } from '../../platform/log.js';
import type { Schedule } from '../../platform/jobs/index.js';
import { deleteActivationTokensEndedBefore } from './activation.store.js';
import type { Deactivate } from './deactivation.js';
import { readSecurityPolicy } from './security-policy.store.js';
import { deleteSessionsEndedBefore } from './sessions.store.js';
import * as users from './users.store.js';

const PURGE_KIND = 'identity.purge-ended';
const INACTIVITY_KIND = 'identity.disable-inactive';
// Ended rows stay a day (sessions) or a week (activation tokens) so support can still see why a token failed.
const SESSION_GRACE_MS = 24 * 3600_000;
const ACTIVATION_GRACE_MS = 7 * 24 * 3600_000;
const DAY_MS = 24 * 3600_000;

/** Identity's periodic work: purge ended sessions every 15 minutes; disable inactive users daily at 02:00 UTC. */
export const identitySchedules: Schedule[] = [
  { name: PURGE_KIND, cron: '*/15 * * * *', kind: PURGE_KIND },
  { name: INACTIVITY_KIND, cron: '0 2 * * *', kind: INACTIVITY_KIND },
];

/** The job handlers identity registers with the worker. */
export function identityJobHandlers(deps: { db: Db; clock: Clock; log: Logger; deactivate: Deactivate }) {
  const { db, clock, log } = deps;

  /** Runs the shared deactivation path for users unused longer than their tenant allows (never the last admin). */
  async function disableInactive(): Promise<number> {
    let disabled = 0;
    for (const tenantId of await users.tenantsWithActiveUsers(db)) {
      const { inactivityDisableDays: days } = await readSecurityPolicy(db, tenantId);
      if (days === 0) continue;
      for (const user of await users.inactiveSince(db, tenantId, clock.now() - days * DAY_MS)) {
        const done = await db.transaction().execute(async (trx) => {
          const isAdmin = (await users.rolesOf(trx, tenantId, user.id)).includes('tenant-admin');
          if (isAdmin && (await users.countOtherActiveAdmins(trx, tenantId, user.id)) === 0) return false;
          await deps.deactivate(trx, { kind: 'system', tenantId, id: INACTIVITY_KIND, ip: null }, tenantId, user.id, 'inactivity');
          return true;
        });
        if (done) disabled += 1;
        else log.warn({ tenantId, userId: user.id }, 'inactive user kept: it is the last active tenant-admin');
      }
    }
    if (disabled > 0) log.info({ disabled }, 'disabled inactive users');
    return disabled;
  }

  return {
    [PURGE_KIND]: async () => {
      const now = clock.now();
      const sessions = await deleteSessionsEndedBefore(db, now - SESSION_GRACE_MS);
      const activations = await deleteActivationTokensEndedBefore(db, now - ACTIVATION_GRACE_MS);
      log.info({ sessions, activations }, 'purged ended sessions and activation tokens');
    },
    [INACTIVITY_KIND]: async () => {
      await disableInactive();
    },
  };
}
