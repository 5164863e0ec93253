import { sql } from 'kysely';
import { expect } from 'vitest';
import type { TestApp } from './app.js';

/** Every row of every table of a test app's database, as text: what a test greps for a secret that must not be there. */
export async function allRowsText(t: TestApp): Promise<string> {
  const db = t.runtime.database.db;
  const tables = t.target.sqliteFile
    ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(db)).rows.map((r) => r.name)
    : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(db)).rows.map((r) => r.name);
  expect(tables).toEqual(expect.arrayContaining(['credentials', 'credential_versions', 'audit_events']));
  const dumps = await Promise.all(tables.map(async (table) => JSON.stringify((await sql`select * from ${sql.table(table)}`.execute(db)).rows)));
  return dumps.join('\n');
}
