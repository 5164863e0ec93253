import type { Kysely } from 'kysely';

/**
 * SIEM destinations and their delivery cursors. The audit log is the outbox: a cursor is the last audit seq
 * of its tenant that the destination confirmed (or filtered out). Cursors live apart from the destinations
 * because they are written on every delivered round and no cached answer reads them (database.ts leaves their
 * UPDATE unmarked). Secrets (the TLS client key, the webhook HMAC secret) are sealed with the tenant key.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('siem_destinations')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('transport', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('host', 'text')
    .addColumn('port', 'integer')
    .addColumn('url', 'text')
    .addColumn('categories', 'text', (c) => c.notNull())
    .addColumn('min_severity', 'integer', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('max_message_bytes', 'integer', (c) => c.notNull())
    .addColumn('framing', 'text', (c) => c.notNull())
    .addColumn('tls_ca_pem', 'text')
    .addColumn('tls_client_cert_pem', 'text')
    .addColumn('tls_client_key_sealed', 'text')
    .addColumn('tls_server_name', 'text')
    .addColumn('secret_sealed', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('siem_destinations_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('siem_destinations_name_idx').on('siem_destinations').columns(['tenant_id', 'name']).unique().execute();
  await db.schema
    .createTable('siem_cursors')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('destination_id', 'text', (c) => c.notNull())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_delivered_at', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'bigint')
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('siem_cursors_pk', ['tenant_id', 'destination_id'])
    .execute();
}
