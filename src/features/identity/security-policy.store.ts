import type { DbOrTx } from '../../platform/db/database.js';
import { defaultSecurityPolicy, securityPolicySchema, type SecurityPolicy } from './security-policy.js';

const KEY = 'security';

/** The tenant's policy: its stored values over the defaults (a field added later takes its default). */
export async function readSecurityPolicy(db: DbOrTx, tenantId: string): Promise<SecurityPolicy> {
  const row = await db.selectFrom('tenant_settings').select('value').where('tenant_id', '=', tenantId).where('key', '=', KEY).executeTakeFirst();
  if (!row) return defaultSecurityPolicy;
  return securityPolicySchema.parse({ ...defaultSecurityPolicy, ...(JSON.parse(row.value) as object) });
}

/** Stores the whole policy. */
export async function writeSecurityPolicy(db: DbOrTx, tenantId: string, policy: SecurityPolicy, now: number): Promise<void> {
  const value = JSON.stringify(policy);
  await db
    .insertInto('tenant_settings')
    .values({ tenant_id: tenantId, key: KEY, value, updated_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'key']).doUpdateSet({ value, updated_at: now }))
    .execute();
}
