import { z } from 'zod';

const categories = ['auth', 'identity', 'vault', 'access', 'rotation', 'connectivity', 'session', 'backup', 'behaviour', 'config', 'operator'] as const;

const isoTime = z.iso.datetime({ offset: true, error: 'a time is ISO 8601 with a zone, such as 2026-01-05T09:00:00Z' }).transform((text) => Date.parse(text));
const severityField = z.coerce.number({ error: 'a severity is a whole number 1-10' }).int().min(1).max(10);
const shortText = z.string().min(1).max(200);

/** The filters search and export share; an action ending in `.*` (or `*`) matches every action under that prefix. */
export const auditFilterFields = {
  from: isoTime.optional(),
  to: isoTime.optional(),
  action: z.string().min(1).max(100).regex(/^[a-z0-9_.]+(\.\*|\*)?$/, 'an action is a name such as credential.revealed, or a prefix such as credential.*').optional(),
  category: z.enum(categories, { error: `a category is one of: ${categories.join(', ')}` }).optional(),
  actorId: shortText.optional(),
  targetType: shortText.optional(),
  targetId: shortText.optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  sourceIp: z.string().min(1).max(64).optional(),
  minSeverity: severityField.optional(),
  severity: severityField.optional(),
  q: z.string().min(1).max(200).optional(),
};

const timeOrder = (f: { from?: number; to?: number }) => f.from === undefined || f.to === undefined || f.from <= f.to;
const orderMessage = { message: '`from` must not be after `to`', path: ['from'] };

/** GET /api/v1/audit/events */
export const searchQuery = z
  .strictObject({ ...auditFilterFields, limit: z.coerce.number().int().min(1).max(500).default(50), cursor: z.string().min(1).max(200).optional() })
  .refine(timeOrder, orderMessage);
export type SearchQuery = z.infer<typeof searchQuery>;

/** What narrows the events; the search and the export apply the same. */
export type AuditFilter = Omit<SearchQuery, 'limit' | 'cursor'> & { fromSeq?: number; toSeq?: number };

const seqField = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** GET /api/v1/audit/export */
export const exportQuery = z
  .strictObject({ ...auditFilterFields, format: z.enum(['csv', 'jsonl']).default('jsonl'), fromSeq: seqField.optional(), toSeq: seqField.optional() })
  .refine(timeOrder, orderMessage)
  .refine((q) => q.fromSeq === undefined || q.toSeq === undefined || q.fromSeq <= q.toSeq, { message: '`fromSeq` must not be after `toSeq`', path: ['fromSeq'] });
export type ExportQuery = z.infer<typeof exportQuery>;

/** One event as search answers it. */
export const eventView = z.object({
  seq: z.number(),
  id: z.string(),
  occurredAt: z.string(),
  action: z.string(),
  typeId: z.number(),
  category: z.string(),
  severity: z.number(),
  outcome: z.string(),
  actor: z.object({ kind: z.string(), id: z.string().nullable(), ip: z.string().nullable() }),
  target: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
  // Free-form per event type (docs/events.md); a loose object serialises every key as stored.
  details: z.looseObject({}),
});
export type EventView = z.infer<typeof eventView>;

export const searchResult = z.object({ events: z.array(eventView), nextCursor: z.string().nullable() });

/** A checkpoint as routes show it. */
export const checkpointView = z.object({ seq: z.number(), hash: z.string(), signedAt: z.string(), keyId: z.string(), signature: z.string() });
export type CheckpointView = z.infer<typeof checkpointView>;

export const publicKeyView = z.object({ keyId: z.string(), algorithm: z.literal('ed25519'), publicKeyPem: z.string(), createdAt: z.string() });

export const listCheckpointsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50), beforeSeq: seqField.optional() });

export const verifyResult = z.object({
  ok: z.boolean(),
  checked: z.number(),
  headSeq: z.number(),
  problem: z.object({ seq: z.number(), eventId: z.string().nullable(), reason: z.string(), message: z.string() }).optional(),
  checkpoint: checkpointView.extend({ valid: z.boolean(), message: z.string() }).optional(),
});
