import type { DbOrTx } from '../../platform/db/database.js';
import { readSetting, writeSetting } from '../identity/tenant-settings.store.js';
import { defaultBehaviourSettings, type BehaviourSettings } from './behaviour.schemas.js';

/** The tenant_settings key of the behaviour analytics settings. */
const SETTINGS_KEY = 'behaviour';

/** The tenant's behaviour settings; a field never set has its default. */
export async function readBehaviourSettings(db: DbOrTx, tenantId: string): Promise<BehaviourSettings> {
  const text = await readSetting(db, tenantId, SETTINGS_KEY);
  return { ...defaultBehaviourSettings, ...(text ? (JSON.parse(text) as Partial<BehaviourSettings>) : {}) };
}

/** Stores the tenant's behaviour settings (whole). */
export async function writeBehaviourSettings(db: DbOrTx, tenantId: string, settings: BehaviourSettings, now: number): Promise<void> {
  await writeSetting(db, tenantId, SETTINGS_KEY, settings, now);
}
