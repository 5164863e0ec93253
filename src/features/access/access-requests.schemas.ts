import { z } from 'zod';
import { accessActions } from './access-engine.js';

/** At least this many characters of why: a ticket number or a sentence. */
export const JUSTIFICATION_MIN = 5;
export const requestStatuses = ['pending', 'approved', 'denied', 'cancelled', 'expired'] as const;

const instant = z.iso.datetime({ offset: true, error: 'use an ISO 8601 date and time, such as 2026-12-07T14:00:00Z' }).transform((v) => Date.parse(v));

/** POST /api/v1/access-requests: from/to ask for a window (else the approval's validity from when it is approved). */
export const createAccessRequestBody = z
  .strictObject({
    credentialId: z.string().min(1).max(64),
    action: z.enum(accessActions, { error: `action is one of: ${accessActions.join(', ')}.` }).default('reveal'),
    justification: z.string().trim().min(JUSTIFICATION_MIN, `justification says why, in at least ${JUSTIFICATION_MIN} characters (such as a ticket number)`).max(2000),
    from: instant.optional(),
    to: instant.optional(),
    emergency: z.boolean().default(false),
  })
  .refine((r) => r.from === undefined || r.to === undefined || r.from < r.to, { path: ['to'], message: 'to must be later than from' })
  .refine((r) => !r.emergency || r.from === undefined, { path: ['from'], message: 'emergency access starts now: leave out from' });
export type CreateAccessRequestInput = z.infer<typeof createAccessRequestBody>;

/** POST /api/v1/access-requests/{id}/approve: a comment is optional. */
export const approveBody = z.strictObject({ comment: z.string().trim().min(1).max(2000).optional() }).nullish();
/** POST /api/v1/access-requests/{id}/deny: the requester is owed a reason. */
export const denyBody = z.strictObject({ comment: z.string().trim().min(1, 'Say why you deny the request in comment; the requester reads it.').max(2000) });

export const accessRequestParams = z.strictObject({ id: z.string().max(64) });

/** GET /api/v1/access-requests: yours (role=requester, the default), those waiting for you (approver), or every one (all, needs access.requests.read). */
export const listAccessRequestsQuery = z.strictObject({
  role: z.enum(['requester', 'approver', 'all'], { error: 'role is one of: requester, approver, all' }).default('requester'),
  status: z.enum(requestStatuses, { error: `status is one of: ${requestStatuses.join(', ')}` }).optional(),
  credentialId: z.string().max(64).optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type ListAccessRequestsQuery = z.infer<typeof listAccessRequestsQuery>;

const decisionView = z.object({ userId: z.string(), level: z.number(), decision: z.enum(['approve', 'deny']), comment: z.string().nullable(), decidedAt: z.string() });
const stageView = z.object({ level: z.number(), constraints: z.array(z.object({ required: z.number(), approverIds: z.array(z.string()), policyIds: z.array(z.string()) })) });

/** One access request as its requester, its approvers and auditors see it. */
export const accessRequestView = z.object({
  id: z.string(),
  requesterId: z.string(),
  credentialId: z.string(),
  action: z.enum(accessActions),
  justification: z.string(),
  status: z.enum(requestStatuses),
  emergency: z.boolean(),
  stage: z.number(),
  stages: z.array(stageView),
  decisions: z.array(decisionView),
  requestedFrom: z.string().nullable(),
  requestedTo: z.string().nullable(),
  expiresAt: z.string(),
  validFrom: z.string().nullable(),
  validUntil: z.string().nullable(),
  createdAt: z.string(),
});
export type AccessRequestView = z.infer<typeof accessRequestView>;

export const accessRequestAnswer = z.object({ request: accessRequestView });
export const accessRequestList = z.object({ requests: z.array(accessRequestView), nextCursor: z.string().nullable() });
