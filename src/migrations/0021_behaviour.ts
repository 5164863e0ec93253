import type { Kysely } from 'kysely';

/**
 * Behaviour analytics, a consumer of the audit log: a cursor per tenant (the last audit seq read), one baseline row
 * per user (JSON, rewritten once per batch), a score per scored event keyed by its audit seq (so nothing is scored
 * twice), and alerts. Scores and alerts are listed per user newest first, alerts also by status.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('behaviour_cursors')
    .addColumn('tenant_id', 'text', (c) => c.notNull().primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('behaviour_baselines')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('events', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('behaviour_baselines_pk', ['tenant_id', 'user_id'])
    .execute();
  await db.schema
    .createTable('behaviour_scores')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('score', 'integer', (c) => c.notNull())
    .addColumn('signals', 'text', (c) => c.notNull())
    .addColumn('source_ip', 'text')
    .addColumn('target_id', 'text')
    .addPrimaryKeyConstraint('behaviour_scores_pk', ['tenant_id', 'seq'])
    .execute();
  await db.schema.createIndex('behaviour_scores_user_idx').on('behaviour_scores').columns(['tenant_id', 'user_id', 'seq']).execute();
  await db.schema
    .createTable('behaviour_alerts')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('score', 'integer', (c) => c.notNull())
    .addColumn('signals', 'text', (c) => c.notNull())
    .addColumn('event_count', 'integer', (c) => c.notNull())
    .addColumn('occurred_at', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('acknowledged_by', 'text')
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('comment', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('behaviour_alerts_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('behaviour_alerts_user_idx').on('behaviour_alerts').columns(['tenant_id', 'user_id', 'id']).execute();
  await db.schema.createIndex('behaviour_alerts_status_idx').on('behaviour_alerts').columns(['tenant_id', 'status', 'id']).execute();
}
