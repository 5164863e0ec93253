import { CompiledQuery, type Kysely } from 'kysely';
import type { Schema } from '../../platform/db/schema.js';
import { decodeValue } from './snapshot-format.js';

/** SQLite allows 32,766 bound values a statement, PostgreSQL 65,535: batches stay under the smaller. */
const MAX_VALUES = 30_000;
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Writes snapshot rows into a table with multi-row INSERTs of one fixed shape per table and batch size, so the text
 * repeats and SQLite's statement cache (and PostgreSQL's plan) serve every full batch; values are bound, never inlined.
 */
export async function insertSnapshotRows(trx: Pick<Kysely<Schema>, 'executeQuery'>, dialect: 'sqlite' | 'postgres', table: string, columns: string[], rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const perBatch = Math.max(1, Math.floor(MAX_VALUES / Math.max(1, columns.length)));
  const head = `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values `;
  for (let i = 0; i < rows.length; i += perBatch) {
    const batch = rows.slice(i, i + perBatch);
    let n = 0;
    const tuple = () => `(${columns.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
    const text = head + batch.map(tuple).join(', ');
    const parameters: unknown[] = [];
    for (const row of batch) for (let c = 0; c < columns.length; c += 1) parameters.push(decodeValue(row[c]));
    await trx.executeQuery(CompiledQuery.raw(text, parameters));
  }
}
