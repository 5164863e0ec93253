import type { Kysely } from 'kysely';

/**
 * The vault's inventory: devices (with the protocols they speak), the privileged credentials on them (the
 * current secret and every earlier version, sealed with the tenant key), tags in their own tables so filters
 * use indexes, and credential policies (strength, age and rotation rules matched by attributes).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('devices')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('type', 'text')
    .addColumn('vendor', 'text')
    .addColumn('model', 'text')
    .addColumn('site', 'text')
    .addColumn('criticality', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('devices_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('devices_name_uq', ['tenant_id', 'name'])
    .execute();
  await db.schema.createIndex('devices_site_idx').on('devices').columns(['tenant_id', 'site', 'id']).execute();
  await db.schema.createIndex('devices_type_idx').on('devices').columns(['tenant_id', 'type', 'id']).execute();

  await db.schema
    .createTable('device_protocols')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('protocol', 'text', (c) => c.notNull())
    .addColumn('port', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_protocols_pk', ['tenant_id', 'device_id', 'protocol'])
    .execute();

  await db.schema
    .createTable('device_tags')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('device_tags_pk', ['tenant_id', 'device_id', 'tag'])
    .execute();
  await db.schema.createIndex('device_tags_tag_idx').on('device_tags').columns(['tenant_id', 'tag', 'device_id']).execute();

  await db.schema
    .createTable('credentials')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('secret_sealed', 'text')
    .addColumn('passphrase_sealed', 'text')
    .addColumn('totp_sealed', 'text')
    .addColumn('owner_id', 'text')
    .addColumn('notes', 'text')
    .addColumn('additional_info', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('needs_rotation', 'integer', (c) => c.notNull())
    .addColumn('secret_changed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('credentials_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('credentials_account_uq', ['tenant_id', 'device_id', 'username'])
    .execute();
  await db.schema.createIndex('credentials_username_idx').on('credentials').columns(['tenant_id', 'username', 'id']).execute();
  await db.schema.createIndex('credentials_type_idx').on('credentials').columns(['tenant_id', 'type', 'id']).execute();

  await db.schema
    .createTable('credential_versions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('secret_sealed', 'text')
    .addColumn('passphrase_sealed', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_versions_pk', ['tenant_id', 'credential_id', 'version'])
    .execute();

  await db.schema
    .createTable('credential_tags')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('tag', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_tags_pk', ['tenant_id', 'credential_id', 'tag'])
    .execute();
  await db.schema.createIndex('credential_tags_tag_idx').on('credential_tags').columns(['tenant_id', 'tag', 'credential_id']).execute();

  await db.schema
    .createTable('credential_policies')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('filters', 'text', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('credential_policies_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('credential_policies_name_uq', ['tenant_id', 'name'])
    .execute();
}
