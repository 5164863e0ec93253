import type { Kysely } from 'kysely';

/**
 * Network connectors (issue 6): a tenant's agents inside its own networks that dial out to the vault and carry
 * its TCP connections to targets only they can reach. The token is kept only as its SHA-256 hash; the token hash
 * is unique across the installation because the upgrade request finds its connector (and tenant) by it. Devices
 * name the connector they are reached through (null: reached directly).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('connectors')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('site', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('connected_at', 'bigint')
    .addColumn('disconnected_at', 'bigint')
    .addColumn('last_seen_at', 'bigint')
    .addColumn('last_address', 'text')
    .addPrimaryKeyConstraint('connectors_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('connectors_token_hash_idx').unique().on('connectors').column('token_hash').execute();
  await db.schema.createIndex('connectors_name_idx').unique().on('connectors').columns(['tenant_id', 'name']).execute();
  await db.schema.alterTable('devices').addColumn('connector_id', 'text').execute();
}
