import type { DbOrTx } from '../../platform/db/database.js';
import type { SiemCursorTable, SiemDestinationTable } from '../../platform/db/schema.siem.js';
import type { ForwardedEvent } from './siem-format.js';

/** Inserts a destination with its cursor (the last seq treated as already delivered). */
export async function insertDestination(db: DbOrTx, row: SiemDestinationTable, lastSeq: number): Promise<void> {
  await db.insertInto('siem_destinations').values(row).execute();
  await db.insertInto('siem_cursors').values({ tenant_id: row.tenant_id, destination_id: row.id, last_seq: lastSeq, last_delivered_at: null, last_error: null, last_error_at: null, failures: 0, updated_at: row.created_at }).execute();
}

/** A tenant's destination by id. */
export async function findDestination(db: DbOrTx, tenantId: string, id: string): Promise<SiemDestinationTable | undefined> {
  return db.selectFrom('siem_destinations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
}

/** Whether the tenant already has a destination of that name (another than exceptId). */
export async function nameTaken(db: DbOrTx, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
  let query = db.selectFrom('siem_destinations').select('id').where('tenant_id', '=', tenantId).where('name', '=', name);
  if (exceptId) query = query.where('id', '<>', exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** A tenant's destinations in creation order. */
export async function listDestinations(db: DbOrTx, tenantId: string): Promise<SiemDestinationTable[]> {
  return db.selectFrom('siem_destinations').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
}

/** Every enabled destination of every tenant: what the forwarder serves. */
export async function listEnabledDestinations(db: DbOrTx): Promise<SiemDestinationTable[]> {
  return db.selectFrom('siem_destinations').selectAll().where('enabled', '=', 1).orderBy('tenant_id').orderBy('id').execute();
}

/** Replaces a destination's settings. */
export async function updateDestination(db: DbOrTx, tenantId: string, id: string, changes: Partial<SiemDestinationTable>): Promise<void> {
  await db.updateTable('siem_destinations').set(changes).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
}

/** Removes a destination and its cursor; false when there was none. */
export async function deleteDestination(db: DbOrTx, tenantId: string, id: string): Promise<boolean> {
  await db.deleteFrom('siem_cursors').where('tenant_id', '=', tenantId).where('destination_id', '=', id).execute();
  const result = await db.deleteFrom('siem_destinations').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

const toCursor = (row: SiemCursorTable): SiemCursorTable => ({ ...row, last_seq: Number(row.last_seq), last_delivered_at: row.last_delivered_at === null ? null : Number(row.last_delivered_at), last_error_at: row.last_error_at === null ? null : Number(row.last_error_at), failures: Number(row.failures), updated_at: Number(row.updated_at) });

/** A destination's cursor. */
export async function findCursor(db: DbOrTx, tenantId: string, destinationId: string): Promise<SiemCursorTable | undefined> {
  const row = await db.selectFrom('siem_cursors').selectAll().where('tenant_id', '=', tenantId).where('destination_id', '=', destinationId).executeTakeFirst();
  return row && toCursor(row);
}

/** The cursors of a tenant's destinations, by destination id. */
export async function cursorsOf(db: DbOrTx, tenantId: string): Promise<Map<string, SiemCursorTable>> {
  const rows = await db.selectFrom('siem_cursors').selectAll().where('tenant_id', '=', tenantId).execute();
  return new Map(rows.map((row) => [row.destination_id, toCursor(row)]));
}

/** Moves a cursor (only forward: a stale writer never moves it back) and records the round's outcome. */
export async function saveCursor(db: DbOrTx, tenantId: string, destinationId: string, changes: Partial<Omit<SiemCursorTable, 'tenant_id' | 'destination_id'>>): Promise<void> {
  let query = db.updateTable('siem_cursors').set(changes).where('tenant_id', '=', tenantId).where('destination_id', '=', destinationId);
  if (changes.last_seq !== undefined) query = query.where('last_seq', '<=', changes.last_seq);
  await query.execute();
}

/** The tenant's newest audit seq (0 before the first event). */
export async function headSeq(db: DbOrTx, tenantId: string): Promise<number> {
  const row = await db.selectFrom('audit_heads').select('seq').where('tenant_id', '=', tenantId).executeTakeFirst();
  return row ? Number(row.seq) : 0;
}

const eventColumns = ['tenant_id', 'seq', 'id', 'occurred_at', 'type_id', 'action', 'category', 'severity', 'outcome', 'actor_kind', 'actor_id', 'actor_ip', 'target_type', 'target_id', 'details'] as const;

/** The tenant's events after a seq, in seq order (the primary key's order), at most limit of them. */
export async function eventsAfter(db: DbOrTx, tenantId: string, afterSeq: number, limit: number): Promise<ForwardedEvent[]> {
  const rows = await db.selectFrom('audit_events').select(eventColumns).where('tenant_id', '=', tenantId).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
  return rows.map((row) => ({ ...row, seq: Number(row.seq), occurred_at: Number(row.occurred_at), type_id: Number(row.type_id), severity: Number(row.severity) }));
}
