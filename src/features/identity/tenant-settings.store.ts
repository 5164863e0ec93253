import type { DbOrTx } from '../../platform/db/database.js';
import { prepareQuery } from '../../platform/db/prepared.js';

/** A tenant's stored setting (JSON text) by key, or null when never set. */
export async function readSetting(db: DbOrTx, tenantId: string, key: string): Promise<string | null> {
  return (await settingOf(db, tenantId, key))[0]?.value ?? null;
}
// Compiled once: a login reads three settings (network, SSO, security policy).
const settingOf = prepareQuery(2, (db: DbOrTx, tenantId: string, key: string) => db.selectFrom('tenant_settings').select('value').where('tenant_id', '=', tenantId).where('key', '=', key));

/** Stores a setting as JSON, replacing any earlier value. */
export async function writeSetting(db: DbOrTx, tenantId: string, key: string, value: unknown, now: number): Promise<void> {
  const text = JSON.stringify(value);
  await db
    .insertInto('tenant_settings')
    .values({ tenant_id: tenantId, key, value: text, updated_at: now })
    .onConflict((oc) => oc.columns(['tenant_id', 'key']).doUpdateSet({ value: text, updated_at: now }))
    .execute();
}
