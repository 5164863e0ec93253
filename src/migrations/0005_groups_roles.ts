import type { Kysely } from 'kysely';

/** Groups (members and the roles they confer), custom roles, and role grants waiting for a second admin (four-eyes). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('groups')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('external_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('groups_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('groups_name_uq', ['tenant_id', 'name'])
    .execute();
  await db.schema
    .createTable('group_members')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['tenant_id', 'group_id', 'user_id'])
    .execute();
  // The token check finds a user's groups by user.
  await db.schema.createIndex('group_members_user_idx').on('group_members').columns(['tenant_id', 'user_id']).execute();
  await db.schema
    .createTable('group_roles')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_roles_pk', ['tenant_id', 'group_id', 'role'])
    .execute();
  await db.schema
    .createTable('custom_roles')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('custom_roles_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('custom_roles_name_uq', ['tenant_id', 'name'])
    .execute();
  await db.schema
    .createTable('role_grants')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('change', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'bigint')
    .addColumn('comment', 'text')
    .addPrimaryKeyConstraint('role_grants_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('role_grants_status_idx').on('role_grants').columns(['tenant_id', 'status', 'id']).execute();
}
