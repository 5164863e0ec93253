import type { Kysely } from 'kysely';

/**
 * Single sign-on (OpenID Connect): login attempts in flight (state, nonce and PKCE verifier, single use, 10
 * minutes) and the links from an identity provider's subject to a tenant user. state_hash is unique across
 * the installation: the callback names no tenant, the state identifies the attempt.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sso_logins')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('state_hash', 'text', (c) => c.notNull().unique())
    .addColumn('browser_hash', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('sso_logins_pk', ['tenant_id', 'id'])
    .execute();

  await db.schema
    .createTable('sso_links')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_login_at', 'bigint')
    .addPrimaryKeyConstraint('sso_links_pk', ['tenant_id', 'issuer', 'subject'])
    .execute();
  await db.schema.createIndex('sso_links_user_idx').on('sso_links').columns(['tenant_id', 'user_id']).execute();
}
