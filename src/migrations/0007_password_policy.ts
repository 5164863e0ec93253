import { sql, type Kysely } from 'kysely';

/** Password history (reuse refused), each password's age, and sessions restricted until the user complies with the policy. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('password_history')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('password_history_pk', ['tenant_id', 'user_id', 'id'])
    .execute();
  // Additive only (expand phase): nullable columns a node of the previous release simply ignores.
  await db.schema.alterTable('users').addColumn('password_changed_at', 'bigint').execute();
  await db.schema.alterTable('sessions').addColumn('restriction', 'text').execute();
  // Existing passwords were last set no later than the row's last change: their age counts from there.
  await sql`update users set password_changed_at = updated_at where password_hash is not null`.execute(db);
}
