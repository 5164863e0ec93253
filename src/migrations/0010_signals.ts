import type { Kysely } from 'kysely';

/**
 * Signals for the other processes on a SQLite file (PostgreSQL uses NOTIFY and leaves this table empty). Not a
 * tenant's data: ids only, swept after an hour, and a tenant's deletion itself must be able to signal.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signals')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}
