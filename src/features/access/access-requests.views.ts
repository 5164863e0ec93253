import type { DbOrTx } from '../../platform/db/database.js';
import type { AccessRequestTable, StoredStage } from '../../platform/db/schema.access.js';
import { notFound } from '../../platform/errors.js';
import type { AccessRequestView } from './access-requests.schemas.js';
import * as store from './access-requests.store.js';

/** Instants in answers, audit details and messages. */
export const iso = (ms: number) => new Date(ms).toISOString();
/** What a notification about a request points to. */
export const requestLink = (id: string) => ({ type: 'access_request', id });
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(Number(ms)));

/** The same answer for an unknown id, another tenant's, and one the caller may not see. */
export const requestNotFound = (id: string) => notFound('ACCESS_REQUEST_NOT_FOUND', `No access request ${id} that you can see in this tenant (yours: GET /api/v1/access-requests; waiting for you: ?role=approver).`);

/** The approval stages a request stored when it was made. */
export const stagesOf = (row: Pick<AccessRequestTable, 'requirements'>): StoredStage[] => JSON.parse(row.requirements) as StoredStage[];

/** Requests as their views, with their decisions (one read for the whole page). */
export async function toViews(db: DbOrTx, tenantId: string, rows: readonly AccessRequestTable[]): Promise<AccessRequestView[]> {
  const decisions = await store.decisionsOf(db, tenantId, rows.map((r) => r.id));
  return rows.map((row) => ({
    id: row.id,
    requesterId: row.requester_id,
    credentialId: row.credential_id,
    action: row.action,
    justification: row.justification,
    status: row.status,
    emergency: Boolean(Number(row.emergency)),
    stage: Number(row.stage),
    stages: stagesOf(row),
    decisions: decisions.filter((d) => d.request_id === row.id).map((d) => ({ userId: d.user_id, level: Number(d.level), decision: d.decision, comment: d.comment, decidedAt: iso(Number(d.created_at)) })),
    requestedFrom: isoOrNull(row.requested_from),
    requestedTo: isoOrNull(row.requested_to),
    expiresAt: iso(Number(row.expires_at)),
    validFrom: isoOrNull(row.valid_from),
    validUntil: isoOrNull(row.valid_until),
    createdAt: iso(Number(row.created_at)),
  }));
}

/** One request as its view. */
export async function toView(db: DbOrTx, row: AccessRequestTable): Promise<AccessRequestView> {
  return (await toViews(db, row.tenant_id, [row]))[0]!;
}
