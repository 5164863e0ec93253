import { SqliteAdapter, sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { DbOrTx } from '../../platform/db/database.js';
import type { AuditEventTable, Schema } from '../../platform/db/schema.js';
import { eventCatalogue } from '../../platform/audit/catalogue.js';
import type { AuditFilter } from './audit.schemas.js';

/** A stored event as the store answers it (numbers as numbers on both engines). */
export type StoredEvent = AuditEventTable;

/** Which way a page walks the chain: newest first (search) or oldest first (export, which verifies in order). */
export interface PageRequest {
  order: 'desc' | 'asc';
  /** Keyset: only events after this seq in the walking order. */
  afterSeq?: number;
  limit: number;
}

// At most this many actions are read as separate index ranges and merged; more are read as one filtered range.
const MERGE_LIMIT = 40;

/** The catalogued actions a filter can match, or null when action, category and severity leave every action open. */
export function candidateActions(filter: AuditFilter): string[] | null {
  if (filter.action === undefined && filter.category === undefined && filter.severity === undefined && filter.minSeverity === undefined) return null;
  const prefix = filter.action?.endsWith('*') ? filter.action.slice(0, -1) : null;
  return Object.entries(eventCatalogue)
    .filter(([action, d]) => (filter.action === undefined || (prefix !== null ? action.startsWith(prefix) : action === filter.action))
      && (filter.category === undefined || d.category === filter.category)
      && (filter.severity === undefined || d.severity === filter.severity)
      && (filter.minSeverity === undefined || d.severity >= filter.minSeverity))
    .map(([action]) => action);
}

const likePattern = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

type Indexed = 'target_id' | 'actor_id' | 'actor_ip' | 'action' | 'outcome';

/** The one index a page reads, most selective first; null for the primary key (seq order). */
function driverOf(filter: AuditFilter, actions: string[] | null): Indexed | null {
  if (filter.targetId !== undefined) return 'target_id';
  if (filter.actorId !== undefined) return 'actor_id';
  if (filter.sourceIp !== undefined) return 'actor_ip';
  if (actions !== null) return 'action';
  return filter.outcome === 'failure' ? 'outcome' : null;
}

/**
 * The row conditions of a filter; the stored category and severity are checked too, so answers stay exact. Only
 * the driving column is compared as itself: the others are written `column || ''`, which no index serves, so
 * neither planner (SQLite has no statistics on a fresh installation) walks a less selective index instead.
 */
function conditions(eb: ExpressionBuilder<Schema, 'audit_events'>, tenantId: string, filter: AuditFilter, actions: string[] | null, sqlite: boolean): Expression<SqlBool> {
  const driver = driverOf(filter, actions);
  const column = (name: Indexed) => (name === driver ? sql.ref(name) : sql`(${sql.ref(name)} || '')`);
  // SQLite without statistics may prefer the primary key's seq range to the driver's equality; unlikely() says the equality is the selective one.
  const equals = (name: Indexed, value: string) => (name === driver && sqlite ? sql<SqlBool>`unlikely(${sql.ref(name)} = ${value})` : sql<SqlBool>`${column(name)} = ${value}`);
  const all: Expression<SqlBool>[] = [eb('tenant_id', '=', tenantId)];
  if (actions !== null) all.push(actions.length === 1 ? equals('action', actions[0]!) : sql<SqlBool>`${column('action')} in (${sql.join(actions)})`);
  // A category is checked, never driven: it maps to its catalogued actions (candidateActions), which the action index serves.
  if (filter.category !== undefined) all.push(sql<SqlBool>`(${sql.ref('category')} || '') = ${filter.category}`);
  if (filter.severity !== undefined) all.push(eb('severity', '=', filter.severity));
  if (filter.minSeverity !== undefined) all.push(eb('severity', '>=', filter.minSeverity));
  if (filter.actorId !== undefined) all.push(equals('actor_id', filter.actorId));
  if (filter.targetType !== undefined) all.push(eb('target_type', '=', filter.targetType));
  if (filter.targetId !== undefined) all.push(equals('target_id', filter.targetId));
  // The partial index of failures matches only the literal predicate outcome = 'failure'.
  if (filter.outcome !== undefined) all.push(driver === 'outcome' ? eb('outcome', '=', sql.lit('failure')) : equals('outcome', filter.outcome));
  if (filter.sourceIp !== undefined) all.push(equals('actor_ip', filter.sourceIp));
  if (filter.fromSeq !== undefined) all.push(eb('seq', '>=', filter.fromSeq));
  if (filter.toSeq !== undefined) all.push(eb('seq', '<=', filter.toSeq));
  if (filter.q !== undefined) {
    const pattern = likePattern(filter.q);
    const like = (name: 'action' | 'actor_id' | 'target_type' | 'target_id' | 'details') => sql<SqlBool>`lower(${sql.ref(name)}) like ${pattern} escape '\\'`;
    all.push(eb.or([like('action'), like('actor_id'), like('target_type'), like('target_id'), like('details')]));
  }
  return eb.and(all);
}

function rangeQuery(db: DbOrTx, tenantId: string, filter: AuditFilter, actions: string[] | null, page: PageRequest) {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  let query = db.selectFrom('audit_events').selectAll().where((eb) => conditions(eb, tenantId, filter, actions, sqlite));
  if (page.afterSeq !== undefined) query = query.where('seq', page.order === 'desc' ? '<' : '>', page.afterSeq);
  return query.orderBy('seq', page.order).limit(page.limit);
}

function asNumbers(rows: StoredEvent[]): StoredEvent[] {
  for (const row of rows) {
    row.seq = Number(row.seq);
    row.occurred_at = Number(row.occurred_at);
    row.type_id = Number(row.type_id);
    row.severity = Number(row.severity);
  }
  return rows;
}

/**
 * One page of a tenant's events matching the filter, in the requested order after the keyset position. A set
 * of candidate actions (a prefix, a severity, a category) is read as one short index range of
 * (tenant_id, action, seq) per action, merged in one UNION ALL statement: a page costs a few index probes,
 * however rare the matching events are, instead of a scan along the chain until enough of them turn up.
 */
export async function pageOfEvents(db: DbOrTx, tenantId: string, filter: AuditFilter, page: PageRequest): Promise<StoredEvent[]> {
  const actions = candidateActions(filter);
  if (actions !== null && actions.length === 0) return [];
  const indexedElsewhere = filter.actorId !== undefined || filter.targetId !== undefined || filter.sourceIp !== undefined;
  if (actions === null || actions.length === 1 || actions.length > MERGE_LIMIT || indexedElsewhere) {
    // Without an action filter, a long candidate list adds nothing the category and severity conditions do not.
    const narrowed = filter.action === undefined && actions !== null && actions.length > MERGE_LIMIT ? null : actions;
    return asNumbers(await rangeQuery(db, tenantId, filter, narrowed, page).execute());
  }
  const branches = actions.map((action, i) => db.selectFrom(rangeQuery(db, tenantId, filter, [action], page).as(`b${i}`)).selectAll());
  const union = branches.slice(1).reduce((all, branch) => all.unionAll(branch), branches[0]!);
  return asNumbers(await db.selectFrom(union.as('merged')).selectAll().orderBy('seq', page.order).limit(page.limit).execute());
}

/**
 * A time range as the seq range from the first event at or after `from` to the last at or before `to`, each one
 * read off the time index: a time-filtered page is then a short primary-key range, and an export of a time range
 * is contiguous (so it verifies offline) even where clocks of two nodes disagreed by a few milliseconds.
 */
export async function seqRangeOfTimes(db: DbOrTx, tenantId: string, from: number | undefined, to: number | undefined): Promise<{ fromSeq?: number; toSeq?: number }> {
  const first = from === undefined ? undefined : await db.selectFrom('audit_events').select('seq').where('tenant_id', '=', tenantId).where('occurred_at', '>=', from).orderBy('occurred_at').limit(1).executeTakeFirst();
  const last = to === undefined ? undefined : await db.selectFrom('audit_events').select('seq').where('tenant_id', '=', tenantId).where('occurred_at', '<=', to).orderBy('occurred_at', 'desc').limit(1).executeTakeFirst();
  return {
    ...(from === undefined ? {} : { fromSeq: first ? Number(first.seq) : Number.MAX_SAFE_INTEGER }),
    ...(to === undefined ? {} : { toSeq: last ? Number(last.seq) : 0 }),
  };
}

/** The tenant's chain head (seq and hash), or null before its first event. */
export async function readHead(db: DbOrTx, tenantId: string): Promise<{ seq: number; hash: string; mac: string } | null> {
  const head = await db.selectFrom('audit_heads').select(['seq', 'hash', 'mac']).where('tenant_id', '=', tenantId).executeTakeFirst();
  return head ? { seq: Number(head.seq), hash: head.hash, mac: head.mac } : null;
}

/** The stored hash of one event, or null when there is no event at that seq. */
export async function hashAt(db: DbOrTx, tenantId: string, seq: number): Promise<string | null> {
  const row = await db.selectFrom('audit_events').select('hash').where('tenant_id', '=', tenantId).where('seq', '=', seq).executeTakeFirst();
  return row?.hash ?? null;
}

/** One stored event with every chained column, or null. */
export async function eventAt(db: DbOrTx, tenantId: string, seq: number): Promise<StoredEvent | null> {
  return (await db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('seq', '=', seq).executeTakeFirst()) ?? null;
}
