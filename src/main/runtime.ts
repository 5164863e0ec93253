import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { SYSTEM_SCOPE } from '../platform/actor.js';
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
import { createServices } from './services.js';

const KEY_CHECK = 'root_key_check';

/** Where the next root key waits during a rotation, until the database has switched to it. */
export const pendingKeyFile = (config: Config) => `${config.rootKeyFile}.next`;

/** Everything a running Custos holds: store, keys, audit, services. Servers and CLI commands share it. */
export type Runtime = Awaited<ReturnType<typeof openRuntime>>;

/** The root key, generated on first start when neither the file nor the database exists yet. */
async function resolveRootKey(config: Config, database: Database, log: Logger): Promise<{ rootKey: RootKey; fresh: boolean }> {
  const meta = await database.db.selectFrom('custos_meta').select('value').where('key', '=', KEY_CHECK).executeTakeFirst();
  const loaded = loadRootKey(config);
  if (!meta) {
    const rootKey = loaded ?? generateRootKeyFile(config.rootKeyFile);
    if (!loaded) log.info({ file: rootKey.source }, 'generated a new root key; back it up: without it the vault cannot be opened');
    return { rootKey, fresh: true };
  }
  if (!loaded) {
    throw new FatalConfigError('ROOT_KEY_MISSING', `This database was initialised with a root key, but there is none at ${config.rootKeyFile} and CUSTOS_ROOT_KEY is not set. Restore the root key file or set CUSTOS_ROOT_KEY.`);
  }
  if (matchesCheckValue(loaded.key, meta.value)) return { rootKey: loaded, fresh: false };
  // A rotation that committed in the database but died before replacing the key file: finish it.
  const next = config.rootKeyBase64 ? null : loadRootKey({ rootKeyFile: pendingKeyFile(config) });
  if (next && matchesCheckValue(next.key, meta.value)) {
    renameSync(pendingKeyFile(config), config.rootKeyFile);
    log.warn({ file: config.rootKeyFile }, 'completed an interrupted root key rotation');
    return { rootKey: { key: next.key, source: config.rootKeyFile }, fresh: false };
  }
  throw new FatalConfigError('ROOT_KEY_MISMATCH', `The root key from ${loaded.source === 'env' ? 'CUSTOS_ROOT_KEY' : loaded.source} is not the key this database was created with (the key check value differs). Start with the original root key; nothing was changed.`);
}

/** Opens the store, applies migrations when asked, checks (or on first start creates) the root key, and wires the services. */
export async function openRuntime(config: Config, options: { migrate?: boolean; log?: Logger; clock?: Clock } = {}) {
  const log = options.log ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const sqliteFile = path.join(config.dataDir, 'custos.db');
  const freshSqlite = !config.databaseUrl && !existsSync(sqliteFile);
  const database = openDatabase(config.databaseUrl ? { postgresUrl: config.databaseUrl, onPoolError: (err) => log.warn({ err: err.message }, 'an idle database connection failed; it was replaced') } : { sqliteFile });
  try {
    const migrationRunner = createMigrationRunner(database.db, migrations);
    await migrationRunner.assertNotNewer();
    if (options.migrate !== false || freshSqlite) {
      const applied = await migrationRunner.up();
      if (applied.length > 0) log.info({ applied }, 'applied migrations');
    } else if (!(await migrationRunner.isCurrent())) {
      throw new FatalConfigError('SCHEMA_OUTDATED', 'The database schema is older than this release. Run: custos migrate up');
    }
    const { rootKey, fresh } = await resolveRootKey(config, database, log);
    const keyring = createKeyring({ rootKey: rootKey.key, clock });
    if (fresh) {
      await database.db.transaction().execute(async (trx) => {
        await trx.insertInto('custos_meta').values({ key: KEY_CHECK, value: keyCheckValue(rootKey.key) }).execute();
        await keyring.createScopeKey(trx, SYSTEM_SCOPE);
      });
    }
    const audit = createAuditLog({ keyring, clock });
    const services = createServices({ database, keyring, audit, clock, log, config });
    let currentRootKey = rootKey.key;
    /** True while the loaded root key still matches the database (readiness). */
    const keyMatches = async () => {
      const meta = await database.db.selectFrom('custos_meta').select('value').where('key', '=', KEY_CHECK).executeTakeFirst();
      return Boolean(meta && matchesCheckValue(currentRootKey, meta.value));
    };
    return {
      config, database, log, clock, keyring, audit, migrations: migrationRunner, services, rootKey, fresh, keyMatches,
      /** Switches to a new root key after a rotation committed. */
      useRootKey(key: Buffer) {
        currentRootKey = key;
        keyring.useRootKey(key);
      },
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
