import { sql } from 'kysely';
import { migrations } from '../../migrations/index.js';
import type { Db } from '../../platform/db/database.js';
import { conflict, invalid, notFound } from '../../platform/errors.js';
import { assertKnownSchema, snapshotFrames, verifySnapshot, type SnapshotManifest } from './snapshot-format.js';
import { tenantColumnOf } from './snapshot-source.js';
import { insertSnapshotRows } from './snapshot-insert.js';

// The job queue and the signal log are the nodes' working state, not the tenant's data: a restore leaves them be.
const OPERATIONAL = new Set(['jobs', 'signals']);
// Sessions and tokens issued before the snapshot must not come back to life: everyone signs in again.
const SIGNED_OUT = ['sessions', 'client_tokens'];

/** The live tables holding a tenant's rows, with their columns (tenants itself by id). */
async function tenantTables(db: Db): Promise<Map<string, Set<string>>> {
  const tables = await db.introspection.getTables();
  const owned = new Map<string, Set<string>>();
  for (const table of tables) {
    const columns = new Set(table.columns.map((c) => c.name));
    if (!OPERATIONAL.has(table.name) && tenantColumnOf(table.name, columns)) owned.set(table.name, columns);
  }
  return owned;
}

/**
 * Restores one tenant into a running system from a tenant snapshot, or from a system snapshot by slug: in one
 * transaction every row the tenant owns now is removed and the snapshot's rows are written, so the tenant is exactly
 * as it was (its audit chain included); other tenants' rows are never touched. Afterwards its sessions and client
 * tokens are gone. The live schema may be newer than the snapshot's (migrations only add); never older.
 */
export async function restoreTenant(deps: { db: Db; dialect: 'sqlite' | 'postgres'; bytes: Buffer; rootKey: Buffer; slug?: string; onProgress?: (done: number, total: number) => void; inTransaction?: (trx: Db, tenantId: string) => Promise<void> }): Promise<{ manifest: SnapshotManifest; tenantId: string; slug: string; rows: number }> {
  const { db } = deps;
  const tenantRows: unknown[][] = [];
  let tenantsColumns: string[] = [];
  const { manifest } = verifySnapshot(deps.bytes, deps.rootKey, (frame) => {
    if (frame.table !== 'tenants') return;
    tenantsColumns = frame.columns;
    tenantRows.push(...frame.rows);
  });
  const idAt = tenantsColumns.indexOf('id');
  const slugAt = tenantsColumns.indexOf('slug');
  const wanted = deps.slug ?? (manifest.scope.kind === 'tenant' ? manifest.scope.slug : undefined);
  if (!wanted) throw invalid('SNAPSHOT_TENANT_REQUIRED', `Snapshot ${manifest.id} holds the whole system: name the tenant to restore from it (--tenant SLUG).`);
  const row = tenantRows.find((r) => r[slugAt] === wanted);
  if (!row) throw notFound('SNAPSHOT_TENANT_NOT_FOUND', `Snapshot ${manifest.id} holds no tenant ${wanted}${manifest.scope.kind === 'tenant' ? ` (it holds ${manifest.scope.slug})` : ''}.`);
  const tenantId = String(row[idAt]);
  assertKnownSchema(manifest, migrations);
  const live = await tenantTables(db);
  const total = manifest.scope.kind === 'tenant' ? manifest.parts.reduce((sum, p) => sum + p.rows, 0) : 0;
  let done = 0;
  await db.transaction().execute(async (trx) => {
    const slugOwner = await trx.selectFrom('tenants').select('id').where('slug', '=', wanted).executeTakeFirst();
    if (slugOwner && slugOwner.id !== tenantId) throw conflict('TENANT_SLUG_TAKEN', `Another tenant (${slugOwner.id}) now has the slug ${wanted}; rename or delete it before restoring this one.`);
    for (const table of live.keys()) await sql`delete from ${sql.table(table)} where ${sql.ref(tenantColumnOf(table, live.get(table)!)!)} = ${tenantId}`.execute(trx);
    const frames = snapshotFrames(deps.bytes, deps.rootKey);
    for (let step = frames.next(); !step.done; step = frames.next()) {
      const frame = step.value;
      const columns = live.get(frame.table);
      if (!columns) continue;
      const missing = frame.columns.filter((c) => !columns.has(c));
      if (missing.length > 0) throw invalid('SNAPSHOT_SCHEMA_TOO_NEW', `Table ${frame.table} of snapshot ${manifest.id} has columns this store lacks (${missing.join(', ')}).`);
      const at = frame.columns.indexOf(tenantColumnOf(frame.table, columns)!);
      const rows = frame.rows.filter((r) => r[at] === tenantId);
      await insertSnapshotRows(trx, deps.dialect, frame.table, frame.columns, rows);
      done += rows.length;
      deps.onProgress?.(done, total || done);
    }
    for (const table of SIGNED_OUT) if (live.has(table)) await sql`delete from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(trx);
    await deps.inTransaction?.(trx, tenantId);
  });
  return { manifest, tenantId, slug: wanted, rows: done };
}
