import type { Kysely } from 'kysely';

/**
 * SCIM 2.0 provisioning: the tenant's SCIM bearer token (only its SHA-256; at most one per tenant, so a new
 * token replaces the old one in the same transaction) and the identity provider's attributes of users.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scim_tokens')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addPrimaryKeyConstraint('scim_tokens_pk', ['tenant_id', 'id'])
    .execute();
  // One live token per tenant: two concurrent replacements cannot both leave a token behind.
  await db.schema.createIndex('scim_tokens_tenant_uq').on('scim_tokens').column('tenant_id').unique().execute();

  // Additive only (expand phase): nullable columns a node of the previous release simply ignores.
  await db.schema.alterTable('users').addColumn('external_id', 'text').execute();
  await db.schema.alterTable('users').addColumn('given_name', 'text').execute();
  await db.schema.alterTable('users').addColumn('family_name', 'text').execute();
  // Identity providers look users and groups up by their own id before every change.
  await db.schema.createIndex('users_external_id_idx').on('users').columns(['tenant_id', 'external_id']).execute();
  await db.schema.createIndex('groups_external_id_idx').on('groups').columns(['tenant_id', 'external_id']).execute();
}
