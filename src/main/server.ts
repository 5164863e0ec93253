import { statfsSync } from 'node:fs';
import { sql } from 'kysely';
import type { Config } from './config.js';
import { buildApp } from './app.js';
import { startBackgroundWork } from './background.js';
import { lockDataDir } from './server-lock.js';
import { openRuntime } from './runtime.js';
import { version } from './version.js';
import type { Logger } from '../platform/log.js';

const MIN_FREE_BYTES = 100 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 25_000;

/** Starts the vault: opens (or initialises) the store and keys, listens, and drains on SIGTERM. */
export async function runServer(config: Config, options: { log?: Logger; print?: (line: string) => void } = {}) {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const unlock = config.databaseUrl ? () => undefined : lockDataDir(config.dataDir);
  const runtime = await openRuntime(config, { migrate: true, log: options.log }).catch((error) => {
    unlock();
    throw error;
  });
  const { database, services, log } = runtime;
  const app = await buildApp({
    services,
    log,
    version,
    trustedProxies: config.trustedProxies,
    checks: {
      database: async () => {
        await sql`select 1`.execute(database.db);
      },
      keys: () => runtime.ensureCurrentRootKey(),
      schema: async () => {
        const pending = await runtime.migrations.pending();
        if (pending.length > 0) throw new Error(`${pending.length} migration(s) pending; run: custos migrate up`);
      },
      disk: async () => {
        if (database.dialect !== 'sqlite') return;
        const stats = statfsSync(config.dataDir);
        if (stats.bavail * stats.bsize < MIN_FREE_BYTES) throw new Error(`less than 100 MiB free in ${config.dataDir}`);
      },
    },
  });
  const address = await app.listen({ port: config.port, host: config.host }).catch(async (error) => {
    await runtime.close();
    unlock();
    throw error;
  });
  const background = await startBackgroundWork(runtime);
  const url = config.port === 0 ? address : config.publicUrl;
  print(`Custos ${version} is listening on ${url}`);
  print(`  data directory: ${config.dataDir}`);
  print(`  database:       ${database.dialect === 'sqlite' ? database.location : `PostgreSQL ${database.location}`}`);
  print(`  root key:       ${runtime.rootKey.source === 'env' ? 'CUSTOS_ROOT_KEY' : runtime.rootKey.source}${runtime.fresh ? ' (new: back it up now)' : ''}`);
  print(`Next: create a tenant with  ./bin/custos tenant create acme --admin-email admin@example.com`);

  let stopping: Promise<void> | undefined;
  /** Stops accepting, lets in-flight requests finish, then closes the store. */
  const stop = (signal: string) => {
    stopping ??= (async () => {
      log.info({ signal }, 'shutting down: draining in-flight requests');
      const timer = setTimeout(() => {
        log.error('drain timed out; exiting');
        process.exit(1);
      }, DRAIN_TIMEOUT_MS);
      timer.unref();
      // A connection busy when closing began turns idle (keep-alive) once its response is sent; sweep those too.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      await app.close();
      clearInterval(sweep);
      await background.stop();
      await runtime.close();
      unlock();
      log.info('stopped');
    })();
    return stopping;
  };
  return { app, runtime, background, url, stop };
}

/** Runs the server until SIGTERM or SIGINT, then exits once drained. */
export async function serveUntilSignalled(config: Config): Promise<void> {
  const server = await runServer(config);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void server.stop(signal).then(() => process.exit(0));
    });
  }
}
