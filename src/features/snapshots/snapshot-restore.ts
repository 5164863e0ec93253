import { sql } from 'kysely';
import { migrations } from '../../migrations/index.js';
import type { Database } from '../../platform/db/database.js';
import { createMigrationRunner } from '../../platform/db/migrate.js';
import { conflict, invalid } from '../../platform/errors.js';
import { assertKnownSchema, snapshotFrames, verifySnapshot, type SnapshotManifest } from './snapshot-format.js';
import { insertSnapshotRows } from './snapshot-insert.js';

// The schema's own bookkeeping is rebuilt by the migrations, never copied.
const REBUILT = new Set(['kysely_migration', 'kysely_migration_lock']);

/** Progress of a restore: rows written of all. */
export type RestoreProgress = (done: number, total: number) => void;

/** Whether a store holds a Custos installation (any applied migration or any table with rows). */
async function isEmpty(target: Database): Promise<boolean> {
  const tables = await target.db.introspection.getTables({ withInternalKyselyTables: true });
  for (const table of tables) {
    const row = (await sql<{ n: number }>`select count(*) as n from ${sql.table(table.name)}`.execute(target.db)).rows[0];
    if (Number(row?.n ?? 0) > 0) return false;
  }
  return true;
}

/**
 * Restores a whole-system snapshot into an empty store (disaster recovery, also from SQLite to PostgreSQL and back):
 * the snapshot is verified first, the schema is built to the snapshot's version, every row is written in one
 * transaction, then the migrations since are applied. Anything wrong before the commit leaves the store empty.
 */
export async function restoreSystem(deps: { target: Database; bytes: Buffer; rootKey: Buffer; onProgress?: RestoreProgress }): Promise<{ manifest: SnapshotManifest; rows: number; migrated: string[] }> {
  const { target } = deps;
  const { manifest, rows } = verifySnapshot(deps.bytes, deps.rootKey);
  if (manifest.scope.kind !== 'system') {
    throw invalid('SNAPSHOT_SCOPE_MISMATCH', `Snapshot ${manifest.id} holds tenant ${manifest.scope.slug} only, not the whole system; a whole-system restore needs a system snapshot (custos snapshot list shows each one's scope).`);
  }
  assertKnownSchema(manifest, migrations);
  if (!(await isEmpty(target))) {
    throw conflict('RESTORE_TARGET_NOT_EMPTY', `${target.location} already holds a Custos installation. A whole-system restore goes into an empty data directory or database: point --data-dir (or CUSTOS_DATABASE_URL) at a new one.`);
  }
  const runner = createMigrationRunner(target.db, migrations);
  if (manifest.schemaVersion) await runner.upTo(manifest.schemaVersion);
  let done = 0;
  await target.db.transaction().execute(async (trx) => {
    // Rows a migration wrote (seed data) give way to the snapshot's: the store ends exactly as the snapshot was.
    for (const part of manifest.parts) if (!REBUILT.has(part.table)) await sql`delete from ${sql.table(part.table)}`.execute(trx);
    const frames = snapshotFrames(deps.bytes, deps.rootKey);
    for (let step = frames.next(); !step.done; step = frames.next()) {
      const frame = step.value;
      if (REBUILT.has(frame.table)) continue;
      await insertSnapshotRows(trx, target.dialect, frame.table, frame.columns, frame.rows);
      done += frame.rows.length;
      deps.onProgress?.(done, rows);
    }
  });
  const migrated = await runner.up();
  return { manifest, rows: done, migrated };
}
