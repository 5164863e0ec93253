import type { StoredEvent } from './audit-search.store.js';
import type { StoredCheckpoint } from './checkpoints.store.js';

/** The name and version a JSON lines export declares in its header; the offline verifier accepts only these. */
export const EXPORT_FORMAT = 'custos-audit-export';
export const EXPORT_VERSION = 1;

/** The first line of a JSON lines export: what it holds and the key its checkpoints were signed with. */
export interface ExportHeader {
  type: 'header';
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  tenantId: string;
  exportedAt: string;
  /** True when no filter but a seq or time range applied: every event between the first and last is present. */
  contiguous: boolean;
  filters: Record<string, unknown>;
  publicKey: { keyId: string; algorithm: 'ed25519'; pem: string } | null;
}

/** One event line: every stored column, exactly as chained (see platform/audit/chain.ts eventHash). */
export interface ExportEventLine { type: 'event'; event: StoredEvent }
/** A signed checkpoint that falls in the exported range; signedAt is epoch milliseconds, as signed. */
export interface ExportCheckpointLine { type: 'checkpoint'; tenantId: string; seq: number; hash: string; signedAt: number; keyId: string; signature: string }
/** The last line: how many events were written, so a cut-off download is told apart from a complete one. */
export interface ExportEndLine { type: 'end'; events: number; firstSeq: number | null; lastSeq: number | null }

// Column order as chain.ts hashes them, so the line reads like the canonical form.
const chainedColumns = ['tenant_id', 'seq', 'id', 'occurred_at', 'type_id', 'action', 'category', 'severity', 'outcome', 'actor_kind', 'actor_id', 'actor_ip', 'target_type', 'target_id', 'details', 'prev_hash', 'hash'] as const;

/** An event as one JSON line. */
export function eventLine(e: StoredEvent): string {
  const event: Record<string, unknown> = {};
  for (const column of chainedColumns) event[column] = e[column];
  return `${JSON.stringify({ type: 'event', event })}\n`;
}

/** A checkpoint as one JSON line. */
export const checkpointLine = (c: StoredCheckpoint): string =>
  `${JSON.stringify({ type: 'checkpoint', tenantId: c.tenant_id, seq: c.seq, hash: c.hash, signedAt: c.signed_at, keyId: c.key_id, signature: c.signature } satisfies ExportCheckpointLine)}\n`;

/** The CSV header row. */
export const csvHeader = 'seq,id,occurred_at,action,type_id,category,severity,outcome,actor_kind,actor_id,actor_ip,target_type,target_id,details,prev_hash,hash\r\n';

// A cell a spreadsheet would run as a formula (= + - @, or a leading tab or carriage return) gets a quote mark in front.
const formulaStart = /^[=+\-@\t\r]/;

/** One CSV cell: defused against formula injection, quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && formulaStart.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** An event as one CSV row (time as ISO 8601). */
export function csvRow(e: StoredEvent): string {
  const cells = [e.seq, e.id, new Date(e.occurred_at).toISOString(), e.action, e.type_id, e.category, e.severity, e.outcome, e.actor_kind, e.actor_id, e.actor_ip, e.target_type, e.target_id, e.details, e.prev_hash, e.hash];
  return `${cells.map(csvCell).join(',')}\r\n`;
}
