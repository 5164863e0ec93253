import { z } from 'zod';
import { controlIds } from './compliance.controls.js';

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'from and to are UTC days such as 2026-01-31')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'from and to are real days such as 2026-01-31');

/** GET /api/v1/compliance/report: JSON, or CSV with format=csv (or Accept: text/csv). */
export const reportQuery = z.strictObject({ format: z.enum(['json', 'csv'], 'format is json or csv').optional() });

/** GET /api/v1/compliance/reports: kept reports between two UTC days (inclusive), newest first. */
export const reportsQuery = z
  .strictObject({ from: day.optional(), to: day.optional(), limit: z.coerce.number().int().min(1).max(1000).default(366) })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from must not be after to', path: ['from'] });
export type ReportsQuery = z.infer<typeof reportsQuery>;

/** POST /api/v1/access-policies/{id}/review */
export const reviewBody = z.strictObject({ comment: z.string().trim().min(1, 'comment must not be empty').max(1000, 'comment is at most 1000 characters').optional() });
export type ReviewInput = z.infer<typeof reviewBody>;

export const policyParams = z.strictObject({ id: z.string().max(64) });

const offenderView = z.object({ type: z.string(), id: z.string(), label: z.string(), detail: z.string() });
const status = z.enum(['pass', 'warn', 'fail']);

/** One control of the report. */
export const controlView = z.object({
  id: z.enum(controlIds),
  title: z.string(),
  status,
  score: z.number(),
  summary: z.string(),
  offenderCount: z.number(),
  offenders: z.array(offenderView),
  remediation: z.string(),
});

/** The report as computed now. */
export const reportView = z.object({ generatedAt: z.string(), score: z.number(), controls: z.array(controlView) });

/** A kept daily report: per-control scores and offender counts. */
export const keptView = z.object({
  day: z.string(),
  score: z.number(),
  generatedAt: z.string(),
  controls: z.array(z.object({ id: z.string(), status, score: z.number(), offenderCount: z.number() })),
});

/** A recorded review of an access policy. */
export const reviewView = z.object({ id: z.string(), policyId: z.string(), reviewerId: z.string(), comment: z.string().nullable(), reviewedAt: z.string() });
