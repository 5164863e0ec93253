import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database, type DialectName } from '../../src/platform/db/database.js';
import { createMigrationRunner } from '../../src/platform/db/migrate.js';
import { migrations } from '../../src/migrations/index.js';

/** A fresh, empty database of one engine; drop() removes every trace of it. */
export interface TestDatabase {
  dialect: DialectName;
  /** For SQLite the file, for PostgreSQL the connection URL: what a child server is given. */
  url: string;
  sqliteFile?: string;
  postgresUrl?: string;
  open(options?: { migrate?: boolean; poolSize?: number }): Promise<Database>;
  drop(): Promise<void>;
}

/** The engines every store and system test runs on; PostgreSQL only when a server is available. */
export const dialects: DialectName[] = inject('postgresUrl') ? ['sqlite', 'postgres'] : ['sqlite'];

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates an empty database: a file in a temp dir, or a new database in the test cluster. */
export async function createTestDatabase(dialect: DialectName): Promise<TestDatabase> {
  const opened: Database[] = [];
  const openWith = async (target: { sqliteFile?: string; postgresUrl?: string }, options: { migrate?: boolean; poolSize?: number } = {}) => {
    const database = openDatabase({ ...target, poolSize: options.poolSize });
    opened.push(database);
    if (options.migrate !== false) await createMigrationRunner(database.db, migrations).up();
    return database;
  };
  const closeAll = async () => {
    await Promise.all(opened.splice(0).map((d) => d.close().catch(() => undefined)));
  };
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'custos-sqlite-'));
    const sqliteFile = path.join(dir, 'custos.db');
    return {
      dialect,
      url: sqliteFile,
      sqliteFile,
      open: (options) => openWith({ sqliteFile }, options),
      drop: async () => {
        await closeAll();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const admin = inject('postgresUrl');
  const name = `custos_t_${Math.random().toString(36).slice(2, 12)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const postgresUrl = databaseUrl(admin, name);
  return {
    dialect,
    url: postgresUrl,
    postgresUrl,
    open: (options) => openWith({ postgresUrl }, options),
    drop: async () => {
      await closeAll();
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Opens a system test's installation (the server's data dir or its PostgreSQL database) for one piece of work, then closes it. */
export async function withInstallation<T>(where: { postgresUrl?: string; dataDir: string }, work: (db: Database) => Promise<T>): Promise<T> {
  const database = openDatabase(where.postgresUrl ? { postgresUrl: where.postgresUrl } : { sqliteFile: path.join(where.dataDir, 'custos.db') });
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}
