import type { DbOrTx } from '../../platform/db/database.js';
import { statusOf } from './siem.service.js';
import * as store from './siem.store.js';

/** Events behind the log head beyond which a destination counts as unhealthy even without an error. */
export const UNHEALTHY_LAG = 10_000;

/**
 * Each SIEM destination of a tenant with its delivery health, for the compliance report: healthy means enabled,
 * its last round did not fail and it is less than UNHEALTHY_LAG events behind.
 */
export async function destinationHealth(db: DbOrTx, tenantId: string): Promise<Array<{ id: string; name: string; healthy: boolean; lastError: string | null; lagEvents: number }>> {
  const [rows, cursors, head] = await Promise.all([store.listDestinations(db, tenantId), store.cursorsOf(db, tenantId), store.headSeq(db, tenantId)]);
  return rows.map((row) => {
    const status = statusOf(row, cursors.get(row.id), head);
    const healthy = status.state !== 'disabled' && status.state !== 'failing' && status.lagEvents < UNHEALTHY_LAG;
    return { id: row.id, name: row.name, healthy, lastError: status.state === 'failing' ? status.lastError : null, lagEvents: status.lagEvents };
  });
}
