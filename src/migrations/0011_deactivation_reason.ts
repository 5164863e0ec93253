import type { Kysely } from 'kysely';

/** Why an inactive user was deactivated, so a directory (SCIM) revives only the users it deactivated itself. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('deactivation_reason', 'text').execute();
}
