import type { Kysely } from 'kysely';

/**
 * Access requests: a user asks to use a credential that an approval policy governs; approvers decide stage by
 * stage. The approvers of each stage are fixed when the request is made (access_request_approvers, indexed by
 * user for the inbox), so changing a policy or a group later neither adds nor removes a decider of a request in
 * flight. One decision per person per request (the primary key), so nobody approves twice at different levels.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('access_requests')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('requester_id', 'text', (c) => c.notNull())
    .addColumn('credential_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('justification', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('emergency', 'integer', (c) => c.notNull())
    .addColumn('stage', 'integer', (c) => c.notNull())
    .addColumn('requirements', 'text', (c) => c.notNull())
    .addColumn('policy_ids', 'text', (c) => c.notNull())
    .addColumn('valid_minutes', 'integer', (c) => c.notNull())
    .addColumn('requested_from', 'bigint')
    .addColumn('requested_to', 'bigint')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('valid_from', 'bigint')
    .addColumn('valid_until', 'bigint')
    .addColumn('decided_at', 'bigint')
    .addColumn('decided_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_requests_pk', ['tenant_id', 'id'])
    .execute();
  await db.schema.createIndex('access_requests_requester_idx').on('access_requests').columns(['tenant_id', 'requester_id', 'id']).execute();
  await db.schema.createIndex('access_requests_use_idx').on('access_requests').columns(['tenant_id', 'requester_id', 'credential_id', 'action', 'status']).execute();
  await db.schema.createIndex('access_requests_expiry_idx').on('access_requests').columns(['status', 'expires_at']).execute();

  await db.schema
    .createTable('access_request_approvers')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_request_approvers_pk', ['tenant_id', 'request_id', 'level', 'user_id'])
    .execute();
  await db.schema.createIndex('access_request_approvers_user_idx').on('access_request_approvers').columns(['tenant_id', 'user_id', 'request_id']).execute();

  await db.schema
    .createTable('access_request_decisions')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_request_decisions_pk', ['tenant_id', 'request_id', 'user_id'])
    .execute();
}
