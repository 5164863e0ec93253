import type { Kysely } from 'kysely';

/** A tenant's focal points: named contacts and the topics they are reached about (a JSON array). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('focal_points')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('topics', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('focal_points_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('focal_points_created_idx').on('focal_points').columns(['tenant_id', 'created_at']).execute();
}
