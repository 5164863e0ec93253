import type { Kysely } from 'kysely';

/**
 * Explicit grants of credentials to API clients: by credential id or by tag. Access policies govern users only;
 * an application reveals a credential only where one of these rows covers it (and its scopes allow the use).
 * Deleting a client deletes its grants (the foreign key cascades). A credential grant has no foreign key, since
 * value holds a credential id or a tag: a deleted credential's id is never reused (UUIDv7), so its grant simply
 * stops matching, is not listed, and the next PUT of the client's grants drops it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('client_credential_grants')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('client_credential_grants_pk', ['tenant_id', 'client_id', 'kind', 'value'])
    .addForeignKeyConstraint('client_credential_grants_client_fk', ['tenant_id', 'client_id'], 'api_clients', ['tenant_id', 'id'], (fk) => fk.onDelete('cascade'))
    .execute();
  // Which clients a tag or a credential is granted to (the primary key already serves lookups by client).
  await db.schema.createIndex('client_credential_grants_value_idx').on('client_credential_grants').columns(['tenant_id', 'kind', 'value']).execute();
}
