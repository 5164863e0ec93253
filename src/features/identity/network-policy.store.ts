import type { DbOrTx } from '../../platform/db/database.js';
import { readSetting, writeSetting } from './tenant-settings.store.js';

/** The tenant_settings key of the network allowlist (the session lookup joins it by this key). */
export const NETWORK_KEY = 'network';

/** The stored allowlist JSON, or null when the tenant never set one (every address allowed). */
export function readNetworkPolicy(db: DbOrTx, tenantId: string): Promise<string | null> {
  return readSetting(db, tenantId, NETWORK_KEY);
}

/** Stores the allowlist. */
export async function writeNetworkPolicy(db: DbOrTx, tenantId: string, allowedCidrs: string[], now: number): Promise<void> {
  await writeSetting(db, tenantId, NETWORK_KEY, { allowedCidrs }, now);
}
