import type { Kysely } from 'kysely';

/**
 * API clients (application to application, OAuth2 client credentials) and the access tokens issued to them.
 * Secrets and tokens are stored only as SHA-256 hashes. client_id and token_hash are unique across the
 * installation: a token request names no tenant, the client_id identifies it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_clients')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('allowed_cidrs', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('secret_rotated_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_token_at', 'bigint')
    .addPrimaryKeyConstraint('api_clients_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('api_clients_name_idx').on('api_clients').columns(['tenant_id', 'name']).unique().execute();

  await db.schema
    .createTable('client_tokens')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_reason', 'text')
    .addColumn('ip', 'text')
    .addPrimaryKeyConstraint('client_tokens_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('client_tokens_client_idx').on('client_tokens').columns(['tenant_id', 'client_id']).execute();
}
