import { systemActor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { Database } from '../platform/db/database.js';
import { createSnapshotService } from '../features/snapshots/snapshots.service.js';
import type { Config } from './config.js';
import { version } from './version.js';

/**
 * The system snapshot taken before any migration touches an existing store (reason before-migration), so an
 * update that goes wrong can be undone with `custos snapshot restore`. Nothing is appended to the audit chain yet (its
 * tables may be about to change): the caller records the snapshot once the schema is current. Answers its id and size.
 */
export async function snapshotBeforeMigration(deps: { config: Pick<Config, 'databaseUrl' | 'snapshotDir'>; database: Database; rootKey: Buffer; clock: Clock }) {
  const { config, database } = deps;
  const store = config.databaseUrl ? { dialect: 'postgres' as const, url: config.databaseUrl } : { dialect: 'sqlite' as const, file: database.location };
  const service = createSnapshotService({ db: database.db, store, dir: config.snapshotDir, rootKey: () => deps.rootKey, clock: deps.clock, version });
  const taken = await service.create(systemActor, { reason: 'before-migration' });
  return { id: taken.id, path: taken.path, bytes: taken.bytes, rows: taken.rows };
}
