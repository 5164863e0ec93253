import type { Kysely } from 'kysely';

/**
 * The in-app inbox: one row per recipient user, written in the transaction of whatever caused it. The index
 * leads with the user and orders by id (UUIDv7, so creation order) for the newest-first inbox and its cursor;
 * unread rows are counted through the same index. SMTP settings live in tenant_settings (key smtp).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notifications')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('link_type', 'text')
    .addColumn('link_id', 'text')
    .addColumn('read_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('notifications_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('notifications_user_idx').on('notifications').columns(['tenant_id', 'user_id', 'id']).execute();
}
