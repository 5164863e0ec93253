import type { Actor } from '../../platform/actor.js';
import { systemActor } from '../../platform/actor.js';
import type { DbOrTx } from '../../platform/db/database.js';
import { forbidden } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import type { AccessAction } from './access-engine.js';
import type { RequestDeps } from './access-requests.service.js';
import * as store from './access-requests.store.js';
import { iso, requestLink } from './access-requests.views.js';

const EXPIRY_BATCH = 500;

/** What a use under an approval policy records: the request it relies on, and whether it is emergency access. */
export interface UsableApproval {
  requestId: string;
  emergency: boolean;
  justification: string;
}

const required = (credentialId: string, why: string) =>
  forbidden('ACCESS_REQUEST_REQUIRED', `Credential ${credentialId} needs an approved access request: ${why} Create one with POST /api/v1/access-requests {"credentialId":"${credentialId}","justification":"..."} and use it once it is approved.`);
const expired = (credentialId: string, id: string, until: number) =>
  forbidden('ACCESS_REQUEST_EXPIRED', `The approval of access request ${id} for credential ${credentialId} ended at ${iso(until)}. Make a new request with POST /api/v1/access-requests.`);

/** Where requests meet uses, time and deactivation: the approval a use relies on, the expiry sweep, the deactivation step. */
export function createRequestLifecycle(deps: Pick<RequestDeps, 'db' | 'audit' | 'clock' | 'notify'>) {
  const { db, audit, clock, notify } = deps;

  /**
   * The approved request that lets the caller use a credential now: the one named, or else their latest approval
   * of it. Outside its window the use is refused with ACCESS_REQUEST_EXPIRED (after) or ACCESS_REQUEST_REQUIRED.
   */
  async function usableApproval(actor: Actor, credentialId: string, action: AccessAction, requestId: string | null): Promise<UsableApproval> {
    const tenantId = actor.tenantId!;
    const row = requestId === null ? await store.latestApproval(db, tenantId, actor.id, credentialId, action) : isId(requestId) ? await store.findRequest(db, tenantId, requestId) : undefined;
    if (!row && requestId === null) {
      const pending = await store.findPending(db, tenantId, actor.id, credentialId, action);
      throw required(credentialId, pending ? `your access request ${pending.id} still waits for approval.` : 'you have no approved request for it.');
    }
    if (!row) throw required(credentialId, `access request ${requestId} is not one of yours.`);
    if (row.requester_id !== actor.id || row.credential_id !== credentialId || row.action !== action) {
      throw required(credentialId, `access request ${row.id} is not your request for ${action} of this credential.`);
    }
    const now = clock.now();
    if (row.status === 'pending') throw required(credentialId, `access request ${row.id} still waits for approval (level ${row.stage}).`);
    if (row.status === 'denied' || row.status === 'cancelled') throw required(credentialId, `access request ${row.id} was ${row.status}.`);
    if (row.valid_until === null || row.valid_from === null) throw required(credentialId, `access request ${row.id} expired undecided.`);
    if (row.status === 'expired' || now >= Number(row.valid_until)) throw expired(credentialId, row.id, Number(row.valid_until));
    if (now < Number(row.valid_from)) throw required(credentialId, `access request ${row.id} is approved from ${iso(Number(row.valid_from))}; use it then.`);
    return { requestId: row.id, emergency: Boolean(Number(row.emergency)), justification: row.justification };
  }

  /** Closes requests left undecided past their expiry and approvals whose window ended; the leader runs it every minute. */
  async function expireDue(): Promise<number> {
    const now = clock.now();
    const due = await store.dueForExpiry(db, now, EXPIRY_BATCH);
    let count = 0;
    for (const row of due) {
      await db.transaction().execute(async (trx) => {
        if (!(await store.updateRequest(trx, row.tenant_id, row.id, row.status, { status: 'expired', updated_at: now }))) return;
        count += 1;
        await audit.append(trx, row.tenant_id, { action: 'access_request.expired', actor: systemActor, target: { type: 'access_request', id: row.id }, details: { credentialId: row.credential_id, was: row.status } });
        if (row.status === 'pending') {
          await notify(trx, row.tenant_id, { kind: 'access_request.expired', link: requestLink(row.id), userIds: [row.requester_id], subject: 'Your access request expired', text: `Access request ${row.id} for ${row.action} of credential ${row.credential_id} was not decided in time and expired. Make a new one if you still need it.` });
        }
      });
    }
    return count;
  }

  /** The deactivation step: a departing user's pending requests and approved windows end with them. */
  async function cancelOnDeactivation(trx: DbOrTx, actor: Actor, tenantId: string, userId: string): Promise<Record<string, number>> {
    const open = await store.openRequestsOf(trx, tenantId, userId);
    const now = clock.now();
    for (const row of open) {
      await store.updateRequest(trx, tenantId, row.id, row.status, { status: 'cancelled', updated_at: now });
      await audit.append(trx, tenantId, { action: 'access_request.cancelled', actor, target: { type: 'access_request', id: row.id }, details: { was: row.status, reason: 'deactivated' } });
    }
    return { accessRequestsCancelled: open.length };
  }

  return { usableApproval, expireDue, cancelOnDeactivation };
}
export type RequestLifecycle = ReturnType<typeof createRequestLifecycle>;
