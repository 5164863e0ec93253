import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { createTestDatabase, dialects } from '../../../test/support/databases.js';
import { apiCall } from '../../../test/support/users.js';
import { migrations } from '../../migrations/index.js';
import { systemClock } from '../../platform/clock.js';
import { createKeyring } from '../../platform/crypto/keyring.js';
import { createMigrationRunner } from '../../platform/db/migrate.js';
import type { Database, DialectName } from '../../platform/db/database.js';
import { versionContext } from '../vault/credentials.sealing.js';
import { restoreSystem } from './snapshot-restore.js';
import { createSnapshotService } from './snapshots.service.js';

const operator = { kind: 'operator' as const, id: 'cli:test', ip: null };
const SECRET = `restore-secret-${randomBytes(6).toString('hex')}`;

/** Every row of every table, as sorted JSON lines (row order is the engine's business); migration times left out. */
async function everyRow(database: Database): Promise<Record<string, string[]>> {
  const tables = (await database.db.introspection.getTables()).map((t) => t.name).filter((name) => name !== 'kysely_migration_lock');
  const out: Record<string, string[]> = {};
  for (const table of tables.sort()) {
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(database.db)).rows;
    out[table] = rows.map((row) => JSON.stringify(Object.entries(table === 'kysely_migration' ? { name: row.name } : row).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : v]))).sort();
  }
  return out;
}

const pairs: [DialectName, DialectName][] = dialects.flatMap((from) => dialects.map((to) => [from, to] as [DialectName, DialectName]));

describe.each(pairs)('whole-system restore from %s into %s', (fromDialect, toDialect) => {
  let t: TestApp;
  let tenant: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let credentialId: string;
  beforeAll(async () => {
    t = await createTestApp(fromDialect);
    tenant = await t.tenantWithAdmin('restore-acme');
    await t.tenantWithAdmin('restore-other');
    const device = await apiCall(t, 'POST', '/devices', tenant.token, { name: 'db-1', address: '10.0.0.5', port: 5432, protocol: 'postgres' });
    const credential = await apiCall(t, 'POST', '/credentials', tenant.token, { deviceId: device.json().device.id, username: 'postgres', type: 'password', secret: SECRET });
    expect(credential.statusCode, credential.body).toBe(201);
    credentialId = credential.json().credential.id;
    // A second version, so history travels too.
    expect((await apiCall(t, 'POST', `/credentials/${credentialId}/secret`, tenant.token, { secret: `${SECRET}-v2` })).statusCode).toBe(200);
  });
  afterAll(() => t.close());

  it('an empty store receives every row exactly, and its secrets open with the root key alone', async () => {
    const before = await everyRow(t.runtime.database);
    const taken = await t.runtime.services.snapshots.create(operator);
    const target = await createTestDatabase(toDialect);
    const database = await target.open({ migrate: false });
    try {
      const rootKey = t.runtime.keyring.currentRootKey();
      const restored = await restoreSystem({ target: database, bytes: readFileSync(taken.path), rootKey });
      expect(restored.migrated).toEqual([]);
      expect(await everyRow(database)).toEqual(before);
      // Only the root key is needed: a fresh keyring on the restored store opens both versions.
      const keyring = createKeyring({ rootKey, clock: t.clock });
      const rows = await database.db.selectFrom('credential_versions').select(['version', 'secret_sealed']).where('credential_id', '=', credentialId).orderBy('version').execute();
      const opened = await Promise.all(rows.map(async (row) => (await keyring.open(database.db, versionContext(tenant.id, credentialId, row.version, 'secret'), row.secret_sealed!)).toString('utf8')));
      expect(opened).toEqual([SECRET, `${SECRET}-v2`]);
    } finally {
      await target.drop();
    }
  });

  it('a store that is not empty, a tenant snapshot, a wrong key and a cut-off file are refused and the store is left as it was', async () => {
    const system = await t.runtime.services.snapshots.create(operator);
    const oneTenant = await t.runtime.services.snapshots.create(operator, { tenantSlug: 'restore-acme' });
    const bytes = readFileSync(system.path);
    const target = await createTestDatabase(toDialect);
    const database = await target.open({ migrate: false });
    try {
      const rootKey = t.runtime.keyring.currentRootKey();
      const tablesNow = async () => (await database.db.introspection.getTables()).length;
      await expect(restoreSystem({ target: database, bytes, rootKey: randomBytes(32) })).rejects.toMatchObject({ code: 'SNAPSHOT_WRONG_KEY' });
      await expect(restoreSystem({ target: database, bytes: bytes.subarray(0, bytes.length - 10), rootKey })).rejects.toMatchObject({ code: 'SNAPSHOT_TRUNCATED' });
      await expect(restoreSystem({ target: database, bytes: readFileSync(oneTenant.path), rootKey })).rejects.toMatchObject({ code: 'SNAPSHOT_SCOPE_MISMATCH' });
      expect(await tablesNow()).toBe(0);
      await restoreSystem({ target: database, bytes, rootKey });
      const after = await everyRow(database);
      await expect(restoreSystem({ target: database, bytes, rootKey })).rejects.toMatchObject({ code: 'RESTORE_TARGET_NOT_EMPTY' });
      expect(await everyRow(database)).toEqual(after);
    } finally {
      await target.drop();
    }
  });
});

describe.each(dialects)('restoring an older schema on %s', (dialect) => {
  it('a snapshot taken before the latest migrations is migrated to this release on restore', async () => {
    const source = await createTestDatabase(dialect);
    const target = await createTestDatabase(dialect);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'custos-old-snapshot-'));
    try {
      const old = await source.open({ migrate: false });
      await createMigrationRunner(old.db, migrations).upTo('0022_compliance');
      await old.db.insertInto('custos_meta').values({ key: 'marker', value: 'from-an-older-release' }).execute();
      const rootKey = randomBytes(32);
      const store = dialect === 'sqlite' ? { dialect: 'sqlite' as const, file: source.sqliteFile! } : { dialect: 'postgres' as const, url: source.postgresUrl! };
      const taken = await createSnapshotService({ db: old.db, store, dir, rootKey: () => rootKey, clock: systemClock, version: 'older' }).create(operator);
      const database = await target.open({ migrate: false });
      const restored = await restoreSystem({ target: database, bytes: readFileSync(taken.path), rootKey });
      expect(restored.manifest.schemaVersion).toBe('0022_compliance');
      expect(restored.migrated).toEqual(Object.keys(migrations).filter((name) => name > '0022_compliance'));
      expect(await createMigrationRunner(database.db, migrations).isCurrent()).toBe(true);
      expect(await database.db.selectFrom('custos_meta').select('value').where('key', '=', 'marker').executeTakeFirst()).toEqual({ value: 'from-an-older-release' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await Promise.all([source.drop(), target.drop()]);
    }
  });
});
