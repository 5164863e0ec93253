import type { Kysely } from 'kysely';

/**
 * The compliance report's own rows: reviews (attestations) of access policies, and the report kept once a day per
 * tenant for the trend. Reviews are read newest-first per policy; kept reports by day. Devices get no index by
 * criticality: SQLite, planning without statistics, then drove the reveal's and the credential list's device
 * joins through it (measured: a reveal's CPU doubled, a list page's rose 80%). Credentials get none either: the age control walks their primary key in pages
 * (with an index on secret age present, PostgreSQL still chose the primary key; it would only slow every secret change).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('access_policy_reviews')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text', (c) => c.notNull())
    .addColumn('reviewer_id', 'text', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('reviewed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_policy_reviews_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('access_policy_reviews_policy_idx').on('access_policy_reviews').columns(['tenant_id', 'policy_id', 'reviewed_at']).execute();
  await db.schema
    .createTable('compliance_reports')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('day', 'text', (c) => c.notNull())
    .addColumn('score', 'integer', (c) => c.notNull())
    .addColumn('controls', 'text', (c) => c.notNull())
    .addColumn('generated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('compliance_reports_pk', ['tenant_id', 'day'])
    .execute();
}
