import type { DbOrTx } from '../../platform/db/database.js';
import { defaultSecurityPolicy, securityPolicySchema, type SecurityPolicy } from './security-policy.js';
import { readSetting, writeSetting } from './tenant-settings.store.js';

const KEY = 'security';

/** The tenant's policy: its stored values over the defaults (a field added later takes its default). */
export async function readSecurityPolicy(db: DbOrTx, tenantId: string): Promise<SecurityPolicy> {
  const stored = await readSetting(db, tenantId, KEY);
  if (!stored) return defaultSecurityPolicy;
  return securityPolicySchema.parse({ ...defaultSecurityPolicy, ...(JSON.parse(stored) as object) });
}

/** Stores the whole policy. */
export async function writeSecurityPolicy(db: DbOrTx, tenantId: string, policy: SecurityPolicy, now: number): Promise<void> {
  await writeSetting(db, tenantId, KEY, policy, now);
}
