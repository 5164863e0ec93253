import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, dialects, type TestDatabase } from '../../test/support/databases.js';
import { migrations } from '../migrations/index.js';
import { SYSTEM_SCOPE, systemActor } from '../platform/actor.js';
import { createAuditLog } from '../platform/audit/audit-log.js';
import { systemClock } from '../platform/clock.js';
import { createKeyring } from '../platform/crypto/keyring.js';
import { keyCheckValue } from '../platform/crypto/root-key.js';
import { createMigrationRunner } from '../platform/db/migrate.js';
import { createLogger } from '../platform/log.js';
import { createSnapshotService } from '../features/snapshots/snapshots.service.js';
import { loadConfig } from './config.js';
import { KEY_CHECK } from './root-key-guard.js';
import { openRuntime } from './runtime.js';

const OLDER = '0022_compliance';
const log = createLogger({ level: 'silent' });

/** A store as an older release left it: its schema up to OLDER, initialised with a root key. */
async function olderInstallation(target: TestDatabase, rootKey: Buffer): Promise<void> {
  const database = await target.open({ migrate: false });
  await createMigrationRunner(database.db, migrations).upTo(OLDER);
  const keyring = createKeyring({ rootKey, clock: systemClock });
  const audit = createAuditLog({ keyring, clock: systemClock });
  await database.db.transaction().execute(async (trx) => {
    await trx.insertInto('custos_meta').values({ key: KEY_CHECK, value: keyCheckValue(rootKey) }).execute();
    await keyring.createScopeKey(trx, SYSTEM_SCOPE);
    await audit.append(trx, SYSTEM_SCOPE, { action: 'custos.initialised', actor: systemActor, details: { database: database.dialect } });
  });
  await database.close();
}

describe.each(dialects)('the snapshot before migrating, on %s', (dialect) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp(older: boolean) {
    const target = await createTestDatabase(dialect);
    cleanups.push(() => target.drop());
    const rootKey = randomBytes(32);
    if (older) await olderInstallation(target, rootKey);
    const dataDir = target.sqliteFile ? path.dirname(target.sqliteFile) : mkdtempSync(path.join(os.tmpdir(), 'custos-premig-'));
    if (!target.sqliteFile) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const config = loadConfig({ dataDir, databaseUrl: target.postgresUrl }, { CUSTOS_ROOT_KEY: rootKey.toString('base64') });
    return { config, rootKey };
  }

  it('an existing store is snapshotted at its old schema before the migrations run, and the snapshot is recorded', async () => {
    const { config, rootKey } = await setUp(true);
    const runtime = await openRuntime(config, { log });
    try {
      expect(runtime.migrated.applied).toEqual(Object.keys(migrations).filter((name) => name > OLDER));
      const snapshot = runtime.migrated.snapshot!;
      const snapshots = createSnapshotService({ db: runtime.database.db, store: { dialect: 'sqlite', file: '' }, dir: config.snapshotDir, rootKey: () => rootKey, audit: runtime.audit, clock: systemClock, version: 'test' });
      expect(snapshots.list()).toEqual([expect.objectContaining({ id: snapshot.id, reason: 'before-migration', scope: { kind: 'system' } })]);
      expect(snapshots.verify(snapshot.id).manifest.schemaVersion).toBe(OLDER);
      const events = await runtime.database.db.selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', SYSTEM_SCOPE).orderBy('seq').execute();
      expect(events.map((e) => e.action)).toEqual(['custos.initialised', 'snapshot.created']);
      expect(JSON.parse(events[1]!.details)).toMatchObject({ snapshotId: snapshot.id, reason: 'before-migration' });
      expect((await runtime.audit.verify(runtime.database.db, SYSTEM_SCOPE)).ok).toBe(true);
    } finally {
      await runtime.close();
    }
    // Nothing pending the next time: no second snapshot.
    const again = await openRuntime(config, { log });
    await again.close();
    expect(again.migrated).toEqual({ applied: [], snapshot: null });
  });

  it('a new store has nothing to snapshot', async () => {
    const { config } = await setUp(false);
    const runtime = await openRuntime(config, { log });
    await runtime.close();
    expect(runtime.migrated.snapshot).toBeNull();
    expect(runtime.migrated.applied.length).toBe(Object.keys(migrations).length);
  });

  it('custos migrate up snapshots first; --no-snapshot applies without one (and without the root key)', async () => {
    const { config, rootKey } = await setUp(true);
    const bin = fileURLToPath(new URL('../../bin/custos', import.meta.url));
    const cli = (args: string[], env: Record<string, string>) => spawnSync(process.execPath, [bin, '--data-dir', config.dataDir, ...(config.databaseUrl ? ['--database-url', config.databaseUrl] : []), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
    const up = cli(['migrate', 'up'], { CUSTOS_ROOT_KEY: rootKey.toString('base64') });
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^Took snapshot \S+ \(.+\.snapshot\) first\.\nApplied \d+ migration\(s\): /);
    expect(cli(['migrate', 'up'], {}).stdout).toContain('nothing to apply');

    const second = await setUp(true);
    const bare = spawnSync(process.execPath, [bin, '--data-dir', second.config.dataDir, ...(second.config.databaseUrl ? ['--database-url', second.config.databaseUrl] : []), 'migrate', 'up', '--no-snapshot'], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(bare.status, bare.stderr).toBe(0);
    expect(bare.stdout).toMatch(/^Applied \d+ migration\(s\)/);
  });

  it('a wrong root key stops the start before anything is migrated or written', async () => {
    const { config } = await setUp(true);
    const wrong = loadConfig({ dataDir: config.dataDir, databaseUrl: config.databaseUrl }, { CUSTOS_ROOT_KEY: randomBytes(32).toString('base64') });
    await expect(openRuntime(wrong, { log })).rejects.toMatchObject({ code: 'ROOT_KEY_MISMATCH' });
    const runtime = await openRuntime(config, { log });
    await runtime.close();
    expect(runtime.migrated.snapshot).not.toBeNull();
  });
});
