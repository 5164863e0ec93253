// In-process benches (audit, behaviour, compliance) measure a service on a throwaway, migrated runtime.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/main/config.js';
import { openRuntime, type Runtime } from '../src/main/runtime.js';
import { createManualClock, type ManualClock } from '../src/platform/clock.js';
import { createLogger } from '../src/platform/log.js';
import { chunks } from '../src/platform/db/chunks.js';
import { createCleanup } from './cleanup.js';
import { startBenchPostgres } from './postgres.js';

/** The database a bench measures on. */
export type BenchDatabase = 'sqlite' | 'postgres';

/** Runs `measure` on a migrated runtime (a scratch data dir; on PostgreSQL the bench cluster) at a manual clock, then removes it all. */
export async function withScratchRuntime<T>(name: string, database: BenchDatabase, start: number, measure: (runtime: Runtime, clock: ManualClock) => Promise<T>): Promise<T> {
  const cleanup = createCleanup();
  const scratch = mkdtempSync(path.join(os.tmpdir(), `custos-bench-${name}-`));
  try {
    const postgresUrl = database === 'postgres' ? (await startBenchPostgres(cleanup)).url : undefined;
    const config = loadConfig({ dataDir: scratch, databaseUrl: postgresUrl }, { CUSTOS_ROOT_KEY: randomBytes(32).toString('base64') });
    const clock = createManualClock(start);
    const runtime = await openRuntime(config, { migrate: true, log: createLogger({ level: 'silent' }), clock });
    try {
      return await measure(runtime, clock);
    } finally {
      await runtime.close();
    }
  } finally {
    await cleanup.run();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A standalone run's database: the argument `postgres` anywhere on the command line, else SQLite. */
export const databaseFromArgv = (): BenchDatabase => (process.argv.includes('postgres') ? 'postgres' : 'sqlite');

/** Writes seed rows in pieces a multi-row INSERT can bind on either database. */
export async function insertChunked<T>(rows: T[], write: (chunk: T[]) => Promise<unknown>): Promise<void> {
  for (const chunk of chunks(rows)) await write(chunk);
}
