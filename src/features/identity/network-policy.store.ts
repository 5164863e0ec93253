import type { DbOrTx } from '../../platform/db/database.js';

/** The tenant_settings key of the network allowlist. */
export const NETWORK_KEY = 'network';

/** The stored allowlist JSON, or null when the tenant never set one (every address allowed). */
export async function readNetworkPolicy(db: DbOrTx, tenantId: string): Promise<string | null> {
  const row = await db.selectFrom('tenant_settings').select('value').where('tenant_id', '=', tenantId).where('key', '=', NETWORK_KEY).executeTakeFirst();
  return row?.value ?? null;
}

/** Stores the allowlist. */
export async function writeNetworkPolicy(db: DbOrTx, tenantId: string, allowedCidrs: string[], now: number): Promise<void> {
  const value = JSON.stringify({ allowedCidrs });
  await db
    .insertInto('tenant_settings')
    .values({ tenant_id: tenantId, key: NETWORK_KEY, value, updated_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'key']).doUpdateSet({ value, updated_at: now }))
    .execute();
}
