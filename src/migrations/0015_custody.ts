import type { Kysely } from 'kysely';

/**
 * Custody of credentials (checkout and check-in). A checkout row keeps its credential id twice: credential_id
 * always, active_credential_id only while the lease is active (NULL once checked in), so the UNIQUE constraint on
 * (tenant_id, active_credential_id) lets the database refuse a second active checkout of one credential (NULLs
 * never collide on either engine). Indexes serve "my custody" (by holder) and the expiry sweep (by expires_at).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('credential_checkouts')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('active_credential_id', 'text')
    .addColumn('justification', 'text')
    .addColumn('request_id', 'text')
    .addColumn('checked_out_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('checked_in_at', 'bigint')
    .addColumn('checked_in_by', 'text')
    .addColumn('reason', 'text')
    .addPrimaryKeyConstraint('credential_checkouts_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('credential_checkouts_active_uq', ['tenant_id', 'active_credential_id'])
    .execute();
  await db.schema.createIndex('credential_checkouts_user_idx').on('credential_checkouts').columns(['tenant_id', 'user_id', 'checked_in_at']).execute();
  await db.schema.createIndex('credential_checkouts_credential_idx').on('credential_checkouts').columns(['tenant_id', 'credential_id', 'id']).execute();
  await db.schema.createIndex('credential_checkouts_expiry_idx').on('credential_checkouts').columns(['expires_at']).execute();
}
