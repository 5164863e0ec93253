import type { DbOrTx } from '../../platform/db/database.js';

/** A tenant's stored setting (JSON text) by key, or null when never set. */
export async function readSetting(db: DbOrTx, tenantId: string, key: string): Promise<string | null> {
  const row = await db.selectFrom('tenant_settings').select('value').where('tenant_id', '=', tenantId).where('key', '=', key).executeTakeFirst();
  return row?.value ?? null;
}

/** Stores a setting as JSON, replacing any earlier value. */
export async function writeSetting(db: DbOrTx, tenantId: string, key: string, value: unknown, now: number): Promise<void> {
  const text = JSON.stringify(value);
  await db
    .insertInto('tenant_settings')
    .values({ tenant_id: tenantId, key, value: text, updated_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'key']).doUpdateSet({ value: text, updated_at: now }))
    .execute();
}
