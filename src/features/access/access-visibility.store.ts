import type { DbOrTx } from '../../platform/db/database.js';
import type { Target } from './access-engine.js';

// Read-only, like access-lookups.store.ts: the vault's rows as the engine reads them, for a page of credentials at once.

/** Several credentials with their devices' attributes and both sets of tags, by credential id: three reads for a page. */
export async function targetsOf(db: DbOrTx, tenantId: string, credentialIds: readonly string[]): Promise<Map<string, Target>> {
  const targets = new Map<string, Target>();
  if (credentialIds.length === 0) return targets;
  const ids = [...new Set(credentialIds)];
  const rows = await db
    .selectFrom('credentials as c')
    .innerJoin('devices as d', (j) => j.onRef('d.tenant_id', '=', 'c.tenant_id').onRef('d.id', '=', 'c.device_id'))
    .select(['c.id', 'c.username', 'c.type', 'c.device_id', 'd.name', 'd.site', 'd.type as device_type'])
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', 'in', ids)
    .execute();
  if (rows.length === 0) return targets;
  const deviceIds = [...new Set(rows.map((r) => r.device_id))];
  const [credentialTags, deviceTags] = await Promise.all([
    db.selectFrom('credential_tags').select(['credential_id as owner', 'tag']).where('tenant_id', '=', tenantId).where('credential_id', 'in', ids).execute(),
    db.selectFrom('device_tags').select(['device_id as owner', 'tag']).where('tenant_id', '=', tenantId).where('device_id', 'in', deviceIds).execute(),
  ]);
  const byOwner = (tagRows: { owner: string; tag: string }[]) => {
    const by = new Map<string, string[]>();
    for (const row of tagRows) (by.get(row.owner) ?? by.set(row.owner, []).get(row.owner)!).push(row.tag);
    return by;
  };
  const credentialTagsOf = byOwner(credentialTags);
  const deviceTagsOf = byOwner(deviceTags);
  for (const row of rows) {
    targets.set(row.id, {
      device: { name: row.name, site: row.site, type: row.device_type, tags: deviceTagsOf.get(row.device_id) ?? [] },
      credential: { username: row.username, type: row.type, tags: credentialTagsOf.get(row.id) ?? [] },
    });
  }
  return targets;
}
