import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { pgTypes } from '../../platform/db/database.js';
import { encodeValue } from './snapshot-format.js';

/** Where the rows come from: the server's store, read through its own connection. */
export type SnapshotStore = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

/** One table as a snapshot reads it: its columns and whether rows belong to a tenant (a tenant_id column). */
export interface SourceTable { name: string; columns: string[]; tenantColumn: 'tenant_id' | 'id' | null }

/**
 * A consistent read of the whole store: every table read by `batches` sees the same instant, and no writer waits
 * (SQLite: a deferred read transaction on its own WAL connection; PostgreSQL: REPEATABLE READ READ ONLY, rows
 * streamed through a cursor).
 */
export interface SnapshotSource {
  tables(): Promise<SourceTable[]>;
  /** The table's rows (only the tenant's, when given) in batches of at most `size`, as JSON-safe values in column order. */
  batches(table: SourceTable, tenantId: string | null, size: number): AsyncIterable<unknown[][]>;
  close(): Promise<void>;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
// The migration bookkeeping goes with a whole-system snapshot (it says the schema); other internals never do.
const internal = (name: string) => name.startsWith('sqlite_') || name === 'kysely_migration_lock';
/** The column naming a row's tenant: `id` for tenants itself, `tenant_id` elsewhere, none for system tables. */
export const tenantColumnOf = (name: string, columns: Iterable<string>): SourceTable['tenantColumn'] => (name === 'tenants' ? 'id' : [...columns].includes('tenant_id') ? 'tenant_id' : null);

function sqliteSource(file: string): SnapshotSource {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  // The first read fixes the snapshot for the whole transaction; writers on other connections carry on (WAL).
  db.exec('BEGIN');
  db.prepare('SELECT count(*) FROM sqlite_master').get();
  return {
    async tables() {
      const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
      return names.filter((name) => !internal(name)).map((name) => {
        const columns = (db.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).pluck().all(name) as string[]);
        return { name, columns, tenantColumn: tenantColumnOf(name, columns) };
      });
    },
    async *batches(table, tenantId, size) {
      const where = tenantId !== null && table.tenantColumn ? ` WHERE ${quote(table.tenantColumn)} = ?` : '';
      const statement = db.prepare(`SELECT ${table.columns.map(quote).join(', ')} FROM ${quote(table.name)}${where}`).raw(true);
      let batch: unknown[][] = [];
      for (const row of statement.iterate(...(where ? [tenantId] : [])) as Iterable<unknown[]>) {
        batch.push(row.map(encodeValue));
        if (batch.length >= size) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    async close() {
      if (db.inTransaction) db.exec('COMMIT');
      db.close();
    },
  };
}

async function postgresSource(url: string): Promise<SnapshotSource> {
  const client = new pg.Client({ connectionString: url, types: pgTypes });
  await client.connect();
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let cursors = 0;
  return {
    async tables() {
      const { rows } = await client.query<{ table_name: string; columns: string[] }>(
        `SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.ordinal_position) AS columns
           FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' GROUP BY c.table_name ORDER BY c.table_name`,
      );
      return rows.filter((r) => !internal(r.table_name)).map((r) => ({ name: r.table_name, columns: r.columns, tenantColumn: tenantColumnOf(r.table_name, r.columns) }));
    },
    async *batches(table, tenantId, size) {
      const cursor = `snapshot_${(cursors += 1)}`;
      const where = tenantId !== null && table.tenantColumn ? ` WHERE ${quote(table.tenantColumn)} = $1` : '';
      await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${table.columns.map(quote).join(', ')} FROM ${quote(table.name)}${where}`, where ? [tenantId] : []);
      try {
        for (;;) {
          const result = await client.query({ text: `FETCH ${size} FROM ${cursor}`, rowMode: 'array' });
          if (result.rows.length === 0) break;
          yield (result.rows as unknown[][]).map((row) => row.map(encodeValue));
        }
      } finally {
        await client.query(`CLOSE ${cursor}`);
      }
    },
    async close() {
      await client.query('COMMIT').catch(() => undefined);
      await client.end();
    },
  };
}

/** Opens a consistent read of the store. */
export async function openSnapshotSource(store: SnapshotStore): Promise<SnapshotSource> {
  return store.dialect === 'sqlite' ? sqliteSource(store.file) : postgresSource(store.url);
}
