import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Dialect,
  type SqliteDatabase,
  type SqliteStatement,
  type Transaction,
} from 'kysely';
import type { Schema } from './schema.js';
import { nameRecurringStatements } from './pg-statements.js';

/** Which engine a database runs on; the only place dialect differences are decided. */
export type DialectName = 'sqlite' | 'postgres';

/** A handle on the store that every feature shares. */
export type Db = Kysely<Schema>;
/** A transaction; stores take it explicitly so a service composes several writes atomically. */
export type Tx = Transaction<Schema>;
/** Either; store functions accept both so they run inside or outside a transaction. */
export type DbOrTx = Kysely<Schema>;

/** An open database and what it runs on. */
export interface Database {
  db: Db;
  dialect: DialectName;
  /** Where the data lives, without credentials, for messages. */
  location: string;
  /**
   * A value that changes whenever anything but the audit log may have been committed (or rolled back), by this
   * process or any other; equal values prove every other table is unchanged in between. Null where the engine
   * cannot tell cheaply (PostgreSQL).
   */
  changeMarker(): string | null;
  close(): Promise<void>;
}

/** Takes SQLite's write lock when a transaction begins, so two processes never deadlock upgrading a read lock. */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

// Statements that leave the marker: the audit log's appends (no cached answer reads the audit tables, and every use
// of a credential appends an event, so counting them would empty every cache on the reveal path), and beginning or
// committing a transaction. A rollback does move it: a value read inside a rolled-back transaction was never committed.
const unmarked = /^(insert into "audit_events" |insert into "audit_heads" |update "audit_heads" |update "siem_cursors" |(insert into|update) "behaviour_(cursors|baselines|scores)" |begin|commit|savepoint|release)/;

// Statements whose effect is only on the rows they report (changes, or rows RETURNING).
const rowWrite = /^(insert|update|delete) /;

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query anew; preparing costs more than running a small query. Statements are reused by
 * SQL text: safe because the single connection runs one query at a time, and a statement still being iterated
 * (streaming) is busy and never handed out twice.
 */
function withStatementCache(database: BetterSqlite3.Database, onWrite: () => void): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  // Every statement that is not read-only counts as a write of this connection (see changeMarker), but audit
  // appends; so does a rollback. A plain insert, update or delete counts only when it changed a row: the job
  // queue's polls change nothing most of the time, and must not empty the caches every second.
  const counted = (sql: string, statement: BetterSqlite3.Statement): SqliteStatement => {
    if ((statement.readonly || unmarked.test(sql)) && !sql.startsWith('rollback')) return statement;
    const rowsOnly = rowWrite.test(sql);
    return {
      reader: statement.reader,
      all: (parameters) => {
        const rows = statement.all(parameters);
        if (!rowsOnly || rows.length > 0) onWrite();
        return rows;
      },
      run: (parameters) => {
        const result = statement.run(parameters);
        if (!rowsOnly || result.changes > 0) onWrite();
        return result;
      },
      iterate: (parameters) => (onWrite(), statement.iterate(parameters)),
      get busy() {
        return statement.busy;
      },
    } as SqliteStatement;
  };
  return {
    close: () => database.close(),
    prepare(sql: string) {
      const hit = cache.get(sql) as (SqliteStatement & { busy: boolean }) | undefined;
      if (hit && !hit.busy) return hit;
      const statement = counted(sql, database.prepare(sql));
      if (!hit) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

function sqliteDialect(file: string): { dialect: Dialect; changeMarker: () => string } {
  const database = new BetterSqlite3(file);
  let localWrites = 0;
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // A vault's pages stay in memory: 64 MiB of page cache (the default is 2 MiB, which a 100,000-credential list
  // walks through), and reads by memory map instead of a system call per page.
  database.pragma('cache_size = -65536');
  database.pragma('mmap_size = 268435456');
  // Deleted rows are overwritten, so a shredded tenant's wrapped key does not linger in free pages.
  database.pragma('secure_delete = ON');
  const cached = withStatementCache(database, () => {
    localWrites += 1;
  });
  const base = new SqliteDialect({ database: cached });
  const dataVersion = database.prepare('pragma data_version').pluck();
  return {
    dialect: {
      createAdapter: () => base.createAdapter(),
      createDriver: () => new ImmediateSqliteDriver({ database: cached }),
      createQueryCompiler: () => base.createQueryCompiler(),
      createIntrospector: (db) => base.createIntrospector(db),
    },
    // data_version moves when another connection (a CLI process) commits; localWrites when this one writes.
    changeMarker: () => `${dataVersion.get() as number}:${localWrites}`,
  };
}

/** BIGINT and NUMERIC come back as numbers: every integer Custos stores fits in 2^53 (every pg client of the store uses it). */
export const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Opens PostgreSQL when a URL is given, otherwise the SQLite file; both speak the same Kysely schema. */
export function openDatabase(options: { postgresUrl?: string; sqliteFile?: string; poolSize?: number; onPoolError?: (error: Error) => void }): Database {
  if (options.postgresUrl) {
    const pool = new pg.Pool({ connectionString: options.postgresUrl, max: options.poolSize ?? 10, types: pgTypes });
    // An idle connection that dies (database restart, failover) must not crash the process: the pool drops it
    // and the next query opens a fresh one.
    pool.on('error', (error) => options.onPoolError?.(error));
    nameRecurringStatements(pool);
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    const url = new URL(options.postgresUrl);
    return { db, dialect: 'postgres', location: `postgres://${url.host}${url.pathname}`, changeMarker: () => null, close: () => db.destroy() };
  }
  if (!options.sqliteFile) throw new Error('openDatabase needs a PostgreSQL URL or a SQLite file');
  const sqlite = sqliteDialect(options.sqliteFile);
  const db = new Kysely<Schema>({ dialect: sqlite.dialect });
  return { db, dialect: 'sqlite', location: options.sqliteFile, changeMarker: sqlite.changeMarker, close: () => db.destroy() };
}

/** True when an insert failed on a unique constraint, on either engine (lets a service answer 409, not 500). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
