import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Audit search and signed checkpoints. Each search index leads with the tenant, then the filtered column, then
 * seq, so a filtered newest-first page is one index range read backwards. Only the filters an investigation
 * starts from get an index (every append pays for each one); failures get a partial index (they are rare, so
 * it is cheap to keep and spares scanning the whole chain for them). Severity, outcome, target type and free
 * text are checked on the rows those indexes (or the primary key) deliver.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // No category index: a category is at most a few dozen catalogued actions, read through the action index (every
  // index costs each append a B-tree insert, measured at 10 to 25 us on SQLite).
  for (const column of ['action', 'actor_id', 'target_id', 'actor_ip']) {
    await db.schema.createIndex(`audit_events_${column}_idx`).on('audit_events').columns(['tenant_id', column, 'seq']).execute();
  }
  await db.schema.createIndex('audit_events_failure_idx').on('audit_events').columns(['tenant_id', 'seq']).where(sql.ref('outcome'), '=', 'failure').execute();

  await db.schema
    .createTable('audit_checkpoint_keys')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('public_key_pem', 'text', (c) => c.notNull())
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_checkpoint_keys_pk', ['tenant_id', 'key_id'])
    .execute();
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('signed_at', 'bigint', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_checkpoints_pk', ['tenant_id', 'seq'])
    .execute();
}

