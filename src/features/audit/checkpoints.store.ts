import type { DbOrTx } from '../../platform/db/database.js';
import type { AuditCheckpointKeyTable, AuditCheckpointTable } from '../../platform/db/schema.audit.js';

/** A stored checkpoint with numbers as numbers on both engines. */
export type StoredCheckpoint = AuditCheckpointTable;

const asCheckpoint = (row: AuditCheckpointTable): StoredCheckpoint => ({ ...row, seq: Number(row.seq), signed_at: Number(row.signed_at) });

/** The tenant's checkpoint key (the newest, should there ever be several), or null before the first checkpoint. */
export async function readCheckpointKey(db: DbOrTx, tenantId: string): Promise<AuditCheckpointKeyTable | null> {
  const row = await db.selectFrom('audit_checkpoint_keys').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').limit(1).executeTakeFirst();
  return row ? { ...row, created_at: Number(row.created_at) } : null;
}

/** Stores a tenant's new checkpoint key (the caller holds the chain head's row lock, so two nodes never both create one). */
export async function insertCheckpointKey(db: DbOrTx, key: AuditCheckpointKeyTable): Promise<void> {
  await db.insertInto('audit_checkpoint_keys').values(key).execute();
}

/** Stores a checkpoint; a second one of the same head (seq) is ignored. */
export async function insertCheckpoint(db: DbOrTx, checkpoint: AuditCheckpointTable): Promise<void> {
  await db.insertInto('audit_checkpoints').values(checkpoint).onConflict((oc) => oc.columns(['tenant_id', 'seq']).doNothing()).execute();
}

/** The newest checkpoint of a tenant, or null. */
export async function latestCheckpoint(db: DbOrTx, tenantId: string): Promise<StoredCheckpoint | null> {
  const row = await db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', tenantId).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? asCheckpoint(row) : null;
}

/** Checkpoints newest first, before a seq (keyset). */
export async function listCheckpoints(db: DbOrTx, tenantId: string, options: { limit: number; beforeSeq?: number }): Promise<StoredCheckpoint[]> {
  let query = db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', tenantId);
  if (options.beforeSeq !== undefined) query = query.where('seq', '<', options.beforeSeq);
  return (await query.orderBy('seq', 'desc').limit(options.limit).execute()).map(asCheckpoint);
}

/** Checkpoints whose seq lies in a range, oldest first: those an export of the range carries. */
export async function checkpointsBetween(db: DbOrTx, tenantId: string, fromSeq: number, toSeq: number): Promise<StoredCheckpoint[]> {
  const rows = await db.selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', tenantId).where('seq', '>=', fromSeq).where('seq', '<=', toSeq).orderBy('seq').execute();
  return rows.map(asCheckpoint);
}

/** Every scope whose chain head is ahead of its newest checkpoint (or has none): what the scheduled job signs. */
export async function scopesWithUncheckpointedHeads(db: DbOrTx, excludedScope: string): Promise<string[]> {
  const rows = await db
    .selectFrom('audit_heads as h')
    .innerJoin('tenants as t', 't.id', 'h.tenant_id')
    .select('h.tenant_id')
    .where('h.tenant_id', '!=', excludedScope)
    .where('h.seq', '>', (eb) => eb.fn.coalesce(eb.selectFrom('audit_checkpoints as c').select((e) => e.fn.max('c.seq').as('m')).whereRef('c.tenant_id', '=', 'h.tenant_id'), eb.lit(0)))
    .execute();
  return rows.map((row) => row.tenant_id);
}
