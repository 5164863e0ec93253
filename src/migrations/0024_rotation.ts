import type { Kysely } from 'kysely';

/**
 * Rotations: one row per rotation of a credential, with its pending (next) secret sealed until it becomes current.
 * Read by credential (history, newest first), by state (the sweeps and the settling of interrupted runs) and by
 * device and state (the per-device concurrency limit). Heartbeats: the last check of each credential's stored secret.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rotations')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('step', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('pending_secret_sealed', 'text')
    .addColumn('pending_passphrase_sealed', 'text')
    .addColumn('from_version', 'integer')
    .addColumn('to_version', 'integer')
    .addColumn('job_id', 'text')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('finished_at', 'bigint')
    .addPrimaryKeyConstraint('rotations_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('rotations_credential_idx').on('rotations').columns(['tenant_id', 'credential_id', 'id']).execute();
  await db.schema.createIndex('rotations_state_idx').on('rotations').columns(['state', 'device_id']).execute();
  await db.schema
    .createTable('credential_heartbeats')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .addColumn('checked_at', 'bigint', (c) => c.notNull())
    .addColumn('changed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_heartbeats_pk', ['tenant_id', 'credential_id'])
    .execute();
}
