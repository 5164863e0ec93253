import { Readable } from 'node:stream';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import { DomainError } from '../../platform/errors.js';
import type { Logger } from '../../platform/log.js';
import type { AuditFilter, ExportQuery } from './audit.schemas.js';
import { resolveTimeRange } from './audit.service.js';
import { pageOfEvents, readHead } from './audit-search.store.js';
import { EXPORT_FORMAT, EXPORT_VERSION, checkpointLine, csvHeader, csvRow, eventLine, type ExportHeader } from './audit-export.format.js';
import type { CheckpointService } from './checkpoints.service.js';
import { checkpointsBetween, readCheckpointKey } from './checkpoints.store.js';

const PAGE = 2000;

/** How far an export got: the seq it reached within the span it covers (for a progress bar). */
export type ExportProgress = (done: number, total: number) => void;

const rangeOnly = new Set(['from', 'to', 'fromSeq', 'toSeq']);

/**
 * Streaming export of a tenant's events, oldest first, one keyset page at a time (never the whole result in
 * memory). The range ends at the head as it was when the export began, so the export is a stable snapshot;
 * a JSON lines export that reaches that head first signs a checkpoint of it, so its last event is covered.
 * `audit.exported` is recorded when the stream ends (with the count, and whether it completed).
 */
export function createAuditExportService(deps: { db: Db; audit: AuditLog; clock: Clock; checkpoints: CheckpointService; log?: Logger }) {
  const { db, audit, clock, checkpoints } = deps;

  async function* lines(actor: Actor, query: ExportQuery, onProgress?: ExportProgress): AsyncGenerator<string> {
    const tenantId = actor.tenantId!;
    const { format, ...given } = query;
    const filters = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
    const contiguous = Object.keys(filters).every((name) => rangeOnly.has(name));
    const head = await readHead(db, tenantId);
    const resolved = await resolveTimeRange(db, tenantId, given);
    const filter: AuditFilter = { ...resolved, toSeq: Math.min(resolved.toSeq ?? Number.MAX_SAFE_INTEGER, head?.seq ?? 0) };
    const firstSpan = filter.fromSeq ?? 1;
    const total = Math.max(0, filter.toSeq! - firstSpan + 1);
    let count = 0;
    let firstSeq: number | null = null;
    let lastSeq: number | null = null;
    let complete = false;
    try {
      if (format === 'jsonl') {
        if (contiguous && head && filter.toSeq === head.seq && head.seq > 0) {
          try {
            await db.transaction().execute((trx) => checkpoints.checkpointIn(trx, tenantId));
          } catch (error) {
            // A broken chain still exports (the offline verifier then names the break); nothing else may stop it.
            if (!(error instanceof DomainError)) throw error;
          }
        }
        const key = await readCheckpointKey(db, tenantId);
        const header: ExportHeader = { type: 'header', format: EXPORT_FORMAT, version: EXPORT_VERSION, tenantId, exportedAt: new Date(clock.now()).toISOString(), contiguous, filters, publicKey: key ? { keyId: key.key_id, algorithm: 'ed25519', pem: key.public_key_pem } : null };
        yield `${JSON.stringify(header)}\n`;
      } else yield csvHeader;
      let afterSeq = filter.fromSeq === undefined ? undefined : filter.fromSeq - 1;
      for (;;) {
        const rows = await pageOfEvents(db, tenantId, filter, { order: 'asc', afterSeq, limit: PAGE });
        if (rows.length === 0) break;
        let chunk = '';
        for (const row of rows) chunk += format === 'jsonl' ? eventLine(row) : csvRow(row);
        firstSeq ??= rows[0]!.seq;
        lastSeq = rows[rows.length - 1]!.seq;
        count += rows.length;
        afterSeq = lastSeq;
        onProgress?.(lastSeq - firstSpan + 1, total);
        yield chunk;
        if (rows.length < PAGE) break;
      }
      if (format === 'jsonl') {
        if (firstSeq !== null && lastSeq !== null) for (const c of await checkpointsBetween(db, tenantId, firstSeq, lastSeq)) yield checkpointLine(c);
        yield `${JSON.stringify({ type: 'end', events: count, firstSeq, lastSeq })}\n`;
      }
      complete = true;
    } finally {
      await db.transaction().execute((trx) => audit.append(trx, tenantId, {
        action: 'audit.exported', actor, details: { format, filters: JSON.stringify(filters), count, firstSeq, lastSeq, complete },
      })).catch((error: unknown) => deps.log?.error({ err: error, tenantId }, 'audit.exported could not be recorded'));
    }
  }

  /** The export as a stream and the response headers it goes with. */
  function exportEvents(actor: Actor, query: ExportQuery, options: { onProgress?: ExportProgress } = {}) {
    const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-');
    return {
      contentType: query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      filename: `audit-${stamp}.${query.format}`,
      stream: Readable.from(lines(actor, query, options.onProgress), { objectMode: false }),
    };
  }

  return { exportEvents };
}
export type AuditExportService = ReturnType<typeof createAuditExportService>;
