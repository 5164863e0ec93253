import { chmodSync, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { SYSTEM_SCOPE, systemActor } from '../platform/actor.js';
import { createAuditLog } from '../platform/audit/audit-log.js';
import { systemClock, type Clock } from '../platform/clock.js';
import { createKeyring } from '../platform/crypto/keyring.js';
import { generateRootKeyFile, keyCheckValue, loadRootKey, matchesCheckValue, type RootKey } from '../platform/crypto/root-key.js';
import { openDatabase, type Database } from '../platform/db/database.js';
import { createMigrationRunner } from '../platform/db/migrate.js';
import { FatalConfigError } from '../platform/errors.js';
import { createLogger, type Logger } from '../platform/log.js';
import { migrations } from '../migrations/index.js';
import type { Config } from './config.js';
import { snapshotBeforeMigration } from './pre-migration-snapshot.js';
import { createServices } from './services.js';
import { createSignals } from '../platform/signals/signals.js';
import { createRootKeyGuard, KEY_CHECK, storedCheckValue } from './root-key-guard.js';


/** Where the next root key waits during a rotation, until the database has switched to it. */
export const pendingKeyFile = (config: Config) => `${config.rootKeyFile}.next`;

/** Everything a running Custos holds: store, keys, audit, services. Servers and CLI commands share it. */
export type Runtime = Awaited<ReturnType<typeof openRuntime>>;

function notInitialised(config: Config): FatalConfigError {
  const where = config.databaseUrl ? 'in the database at CUSTOS_DATABASE_URL' : `in ${config.dataDir}`;
  return new FatalConfigError('NOT_INITIALISED', `There is no Custos installation ${where}. Start the server once to create it (custos server), or point --data-dir / CUSTOS_DATA_DIR at the existing one.`);
}

/** Whether the store holds an installation (its root key check value): an empty one has nothing to snapshot. */
export async function hasKeyCheck(database: Database): Promise<boolean> {
  const tables = await database.db.introspection.getTables();
  return tables.some((t) => t.name === 'custos_meta') && Boolean(await storedCheckValue(database.db));
}

/** Creates the data directory owner-only, and tightens an existing one that others could read. */
function prepareDataDir(config: Config, log: Logger): void {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(config.dataDir).mode & 0o777;
  if (mode & 0o077) {
    chmodSync(config.dataDir, 0o700);
    log.warn({ dataDir: config.dataDir, was: mode.toString(8) }, 'the data directory was readable by others; it is now 0700');
  }
}

/** The root key, generated on first start when neither the file nor the database exists yet. */
async function resolveRootKey(config: Config, database: Database, log: Logger): Promise<{ rootKey: RootKey; fresh: boolean }> {
  const stored = await storedCheckValue(database.db);
  const loaded = loadRootKey(config);
  if (!stored) {
    const rootKey = loaded ?? generateRootKeyFile(config.rootKeyFile);
    if (!loaded) log.info({ file: rootKey.source }, 'generated a new root key; back it up: without it the vault cannot be opened');
    return { rootKey, fresh: true };
  }
  if (!loaded) {
    throw new FatalConfigError('ROOT_KEY_MISSING', `This database was initialised with a root key, but there is none at ${config.rootKeyFile} and CUSTOS_ROOT_KEY is not set. Restore the root key file or set CUSTOS_ROOT_KEY.`);
  }
  if (matchesCheckValue(loaded.key, stored)) return { rootKey: loaded, fresh: false };
  // A rotation that committed in the database but died before replacing the key file: finish it.
  const next = config.rootKeyBase64 ? null : loadRootKey({ rootKeyFile: pendingKeyFile(config) });
  if (next && matchesCheckValue(next.key, stored)) {
    renameSync(pendingKeyFile(config), config.rootKeyFile);
    log.warn({ file: config.rootKeyFile }, 'completed an interrupted root key rotation');
    return { rootKey: { key: next.key, source: config.rootKeyFile }, fresh: false };
  }
  throw new FatalConfigError('ROOT_KEY_MISMATCH', `The root key from ${loaded.source === 'env' ? 'CUSTOS_ROOT_KEY' : loaded.source} is not this database's current root key (the key check value differs). Start with the current root key; nothing was changed.`);
}

/** Opens the store, applies migrations when asked, checks (or on first start creates) the root key, and wires the services. */
export async function openRuntime(config: Config, options: { migrate?: boolean; initialise?: boolean; log?: Logger; clock?: Clock } = {}) {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const sqliteFile = path.join(config.dataDir, 'custos.db');
  const freshSqlite = !config.databaseUrl && !existsSync(sqliteFile);
  // Only the server creates a vault: a CLI command with a mistyped --data-dir must not make an empty new one.
  if (options.initialise === false && freshSqlite) throw notInitialised(config);
  prepareDataDir(config, log);
  const database = openDatabase(config.databaseUrl ? { postgresUrl: config.databaseUrl, onPoolError: (err) => log.warn({ err: err.message }, 'an idle database connection failed; it was replaced') } : { sqliteFile });
  try {
    const migrationRunner = createMigrationRunner(database.db, migrations);
    await migrationRunner.assertNotNewer();
    if (options.initialise === false && !(await hasKeyCheck(database))) throw notInitialised(config);
    let resolved: Awaited<ReturnType<typeof resolveRootKey>> | null = null;
    let beforeMigration: Awaited<ReturnType<typeof snapshotBeforeMigration>> | null = null;
    let applied: string[] = [];
    if (options.migrate !== false || freshSqlite) {
      // An existing store is snapshotted before any migration changes it (the root key is checked first).
      if ((await migrationRunner.pending()).length > 0 && (await hasKeyCheck(database))) {
        resolved = await resolveRootKey(config, database, log);
        beforeMigration = await snapshotBeforeMigration({ config, database, rootKey: resolved.rootKey.key, clock });
        log.info({ snapshotId: beforeMigration.id, path: beforeMigration.path }, 'took a snapshot before migrating');
      }
      applied = await migrationRunner.up();
      if (applied.length > 0) log.info({ applied }, 'applied migrations');
    } else if (!(await migrationRunner.isCurrent())) {
      throw new FatalConfigError('SCHEMA_OUTDATED', 'The database schema is older than this release. Run: custos migrate up');
    }
    const { rootKey, fresh } = resolved ?? (await resolveRootKey(config, database, log));
    const guard = createRootKeyGuard({ config, log, initialKey: rootKey.key, onChange: (key) => keyring.useRootKey(key) });
    const keyring = createKeyring({ rootKey: rootKey.key, clock, ensureCurrentRootKey: guard.ensureCurrent });
    const audit = createAuditLog({ keyring, clock });
    if (fresh) {
      await database.db.transaction().execute(async (trx) => {
        await trx.insertInto('custos_meta').values({ key: KEY_CHECK, value: keyCheckValue(rootKey.key) }).execute();
        await keyring.createScopeKey(trx, SYSTEM_SCOPE);
        await audit.append(trx, SYSTEM_SCOPE, { action: 'custos.initialised', actor: systemActor, details: { database: database.dialect } });
      });
    }
    if (beforeMigration) {
      const snapshot = beforeMigration;
      await database.db.transaction().execute((trx) => audit.append(trx, SYSTEM_SCOPE, { action: 'snapshot.created', actor: systemActor, details: { snapshotId: snapshot.id, scope: 'system', rows: snapshot.rows, bytes: snapshot.bytes, reason: 'before-migration', migrations: applied } }));
    }
    const signals = createSignals({ database, postgresUrl: config.databaseUrl, clock, log });
    // A tenant deleted through another node or the CLI: its unwrapped keys leave this node's memory too.
    signals.subscribe('tenant.deleted', (signal) => keyring.forget(signal.tenantId));
    signals.subscribe('tenant.restored', (signal) => keyring.forget(signal.tenantId));
    const services = createServices({ database, keyring, audit, clock, log, config, signals });
    await services.maintenance.load();
    return {
      config, database, log, clock, keyring, audit, signals, migrations: migrationRunner, services, rootKey, fresh,
      /** What this start applied, and the snapshot taken before (null when nothing was pending). */
      migrated: { applied, snapshot: beforeMigration },
      /** Readiness: the root key in use is the database's current one (a rotated key file is picked up). */
      ensureCurrentRootKey: () => guard.ensureCurrent(database.db),
      /** Switches to a new root key after a rotation committed. */
      useRootKey: guard.use,
      close: async () => {
        await signals.stop();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
