import type { Kysely } from 'kysely';

/**
 * Access policies: which users and groups may reveal, open sessions with or read the history of which
 * credentials, and how (allow, justification, approval). Filters and per-action rules are JSON; the users and
 * groups a policy names (members, and approvers of each approval level) live in their own table, indexed by
 * subject, so "the policies of user X and their groups" is one indexed query and deleting a user or a group
 * removes them everywhere with one statement. A per-tenant revision lets every node's compiled-policy cache
 * notice a change made on another node.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('access_policies')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('filters', 'text', (c) => c.notNull())
    .addColumn('actions', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_policies_pk', ['tenant_id', 'id'])
    .addUniqueConstraint('access_policies_name_uq', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('access_policy_subjects')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text', (c) => c.notNull())
    .addColumn('relation', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_policy_subjects_pk', ['tenant_id', 'policy_id', 'relation', 'action', 'level', 'subject_type', 'subject_id'])
    .execute();
  await db.schema
    .createIndex('access_policy_subjects_subject_idx')
    .on('access_policy_subjects')
    .columns(['tenant_id', 'subject_type', 'subject_id', 'relation', 'policy_id'])
    .execute();

  await db.schema
    .createTable('access_policy_revisions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_policy_revisions_pk', ['tenant_id'])
    .execute();
}
