import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import { invalid } from '../../platform/errors.js';
import type { AuditFilter, EventView, SearchQuery } from './audit.schemas.js';
import { pageOfEvents, seqRangeOfTimes, type StoredEvent } from './audit-search.store.js';
import type { CheckpointService } from './checkpoints.service.js';

/** An event as search answers it: camel case, time as ISO 8601, details parsed. */
export function eventToView(e: StoredEvent): EventView {
  return {
    seq: e.seq, id: e.id, occurredAt: new Date(e.occurred_at).toISOString(), action: e.action, typeId: e.type_id, category: e.category, severity: e.severity, outcome: e.outcome,
    actor: { kind: e.actor_kind, id: e.actor_id, ip: e.actor_ip },
    target: e.target_type === null ? null : { type: e.target_type, id: e.target_id },
    details: JSON.parse(e.details) as EventView['details'],
  };
}

// The cursor is opaque to callers; it carries the seq of the page's last event (keyset, so pages never shift).
const encodeCursor = (seq: number) => Buffer.from(JSON.stringify({ v: 1, s: seq })).toString('base64url');
function decodeCursor(cursor: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; s?: unknown };
    if (parsed.v === 1 && Number.isSafeInteger(parsed.s) && (parsed.s as number) >= 1) return parsed.s as number;
  } catch {
    // Falls through to the one refusal below.
  }
  throw invalid('VALIDATION_FAILED', 'The cursor is not one this server issued: pass nextCursor from the previous page unchanged.', { issues: [{ path: 'querystring.cursor', message: 'invalid cursor' }] });
}

/** Turns from/to into the seq range they cover (see seqRangeOfTimes), narrowed by any seq range already given. */
export async function resolveTimeRange(db: DbOrTx, tenantId: string, filter: AuditFilter): Promise<AuditFilter> {
  if (filter.from === undefined && filter.to === undefined) return filter;
  const range = await seqRangeOfTimes(db, tenantId, filter.from, filter.to);
  const { from: _from, to: _to, ...rest } = filter;
  return {
    ...rest,
    ...(range.fromSeq !== undefined || rest.fromSeq !== undefined ? { fromSeq: Math.max(range.fromSeq ?? 1, rest.fromSeq ?? 1) } : {}),
    ...(range.toSeq !== undefined || rest.toSeq !== undefined ? { toSeq: Math.min(range.toSeq ?? Number.MAX_SAFE_INTEGER, rest.toSeq ?? Number.MAX_SAFE_INTEGER) } : {}),
  };
}

/** The tenant's audit trail: search (newest first, keyset cursor) and verification of its chain and newest checkpoint. */
export function createAuditService(deps: { db: Db; audit: AuditLog; checkpoints: CheckpointService }) {
  const { db, audit, checkpoints } = deps;

  /** One page of the caller's tenant's events; nextCursor is null on the last page. */
  async function search(actor: Actor, query: SearchQuery): Promise<{ events: EventView[]; nextCursor: string | null }> {
    const tenantId = actor.tenantId!;
    const { limit, cursor, ...filter } = query;
    const afterSeq = cursor === undefined ? undefined : decodeCursor(cursor);
    const rows = await pageOfEvents(db, tenantId, await resolveTimeRange(db, tenantId, filter), { order: 'desc', afterSeq, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { events: page.map(eventToView), nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null };
  }

  /** Recomputes the caller's tenant's whole chain and checks its newest checkpoint; the outcome is itself recorded. */
  async function verify(actor: Actor) {
    const tenantId = actor.tenantId!;
    const result = await audit.verify(db, tenantId);
    const checkpoint = await checkpoints.checkLatest(db, tenantId);
    const ok = result.ok && (checkpoint?.valid ?? true);
    await db.transaction().execute((trx) => audit.append(trx, tenantId, {
      action: 'audit.verified', actor, outcome: ok ? 'success' : 'failure',
      details: { checked: result.checked, headSeq: result.headSeq, problemSeq: result.problem?.seq ?? null, reason: result.problem?.reason ?? (checkpoint && !checkpoint.valid ? 'checkpoint' : null), checkpointSeq: checkpoint?.seq ?? null },
    }));
    return { ...result, ok, ...(checkpoint ? { checkpoint } : {}) };
  }

  return { search, verify };
}
export type AuditService = ReturnType<typeof createAuditService>;
