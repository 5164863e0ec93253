import type { Kysely } from 'kysely';

/**
 * Connectivity checks: every device's latest result (connectivity_state, one row per device, read by the scheduler
 * to find devices due a check and to judge lost/restored transitions) and a bounded history (connectivity_checks,
 * read newest-first per device).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connectivity_checks')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('latency_ms', 'integer')
    .addColumn('code', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('checked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('connectivity_checks_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('connectivity_checks_device_idx').on('connectivity_checks').columns(['tenant_id', 'device_id', 'id']).execute();
  await db.schema
    .createTable('connectivity_state')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('latency_ms', 'integer')
    .addColumn('code', 'text')
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('checked_at', 'bigint', (c) => c.notNull())
    .addColumn('since', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('connectivity_state_pk', ['tenant_id', 'device_id'])
    .execute();
}
