import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import { isUniqueViolation, type Db, type DbOrTx } from '../../platform/db/database.js';
import type { CredentialCheckoutTable } from '../../platform/db/schema.js';
import { conflict, forbidden, notFound } from '../../platform/errors.js';
import { isId, newId } from '../../platform/ids.js';
import { credentialNotFound } from './credentials.service.js';
import type { CheckinReason, CheckoutView } from './custody.schemas.js';
import * as custody from './custody.store.js';
import { createUseRules, integrityFailed, type UseGovernance } from './reveal.service.js';
import type { StepUpGuard } from './step-up-guard.js';
import type { CheckoutInput } from './reveal.schemas.js';

const DEFAULT_MINUTES = 60;
const EXPIRY_BATCH = 500;
const iso = (ms: number) => new Date(ms).toISOString();

const toView = (row: CredentialCheckoutTable): CheckoutView => ({
  id: row.id, credentialId: row.credential_id, userId: row.user_id, checkedOutAt: iso(row.checked_out_at), expiresAt: iso(row.expires_at),
  checkedInAt: row.checked_in_at === null ? null : iso(row.checked_in_at), reason: row.reason,
});
const checkedOut = (id: string) => conflict('CREDENTIAL_CHECKED_OUT', `Credential ${id} is already checked out; it can be checked out again once it is checked in (GET /api/v1/checkouts).`);
const notCheckedOut = (id: string) => conflict('NOT_CHECKED_OUT', `You do not hold credential ${id}: it is not checked out by you (your checkouts: GET /api/v1/checkouts).`);

/**
 * Custody of credentials: an exclusive, time-limited checkout (the database refuses a second active one), checked
 * in by its holder, forced back by an administrator, expired by the leader's sweep, or released when its holder
 * is deactivated. Every change is audited in its transaction; the checkout's secret is shown after its event commits.
 */
export function createCustodyService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; governance: UseGovernance; stepUps: StepUpGuard }) {
  const { db, audit, clock, governance } = deps;
  const rules = createUseRules(deps);

  /** Ends an active checkout in the caller's transaction, flags rotation where asked, and audits it; false when it had already ended. */
  async function end(trx: DbOrTx, actor: Actor, row: CredentialCheckoutTable, reason: CheckinReason, options: { alwaysRotate?: boolean } = {}): Promise<CredentialCheckoutTable | null> {
    const now = clock.now();
    const ended = { checked_in_at: now, checked_in_by: actor.id, reason };
    if (!(await custody.endCheckout(trx, row.tenant_id, row.id, ended))) return null;
    const rotate = options.alwaysRotate === true || (await governance.rotatesAfter(trx, row.tenant_id, row.credential_id, 'checkin'));
    if (rotate) await custody.markForRotation(trx, row.tenant_id, row.credential_id);
    await audit.append(trx, row.tenant_id, { action: 'credential.checked_in', actor, target: { type: 'credential', id: row.credential_id }, details: { checkoutId: row.id, holderId: row.user_id, reason, rotationFlagged: rotate } });
    return { ...row, ...ended, active_credential_id: null };
  }

  /** Checks a credential out for `minutes` and shows its current secret: the reveal's policy checks, and exclusive. */
  async function checkout(actor: Actor, id: string, input: CheckoutInput) {
    const grant = await rules.authorize(actor, id, input);
    const tenantId = actor.tenantId!;
    const minutes = input?.minutes ?? DEFAULT_MINUTES;
    const outcome = await db.transaction().execute(async (trx) => {
      const row = await rules.loadUsable(trx, actor, id, { allowHolder: false });
      const now = clock.now();
      const secret = await rules.openCurrent(trx, actor, row, now);
      if (!secret) return null;
      const checkoutRow: CredentialCheckoutTable = {
        tenant_id: tenantId, id: newId(now), credential_id: row.id, user_id: actor.id, active_credential_id: row.id, justification: grant.justification, request_id: grant.requestId,
        checked_out_at: now, expires_at: now + minutes * 60_000, checked_in_at: null, checked_in_by: null, reason: null,
      };
      await custody.insertCheckout(trx, checkoutRow).catch((error) => {
        throw isUniqueViolation(error) ? checkedOut(id) : error;
      });
      if (grant.emergency) await custody.markForRotation(trx, tenantId, row.id);
      await audit.append(trx, tenantId, { action: 'credential.checked_out', actor, target: { type: 'credential', id: row.id }, details: { checkoutId: checkoutRow.id, version: row.version, expiresAt: iso(checkoutRow.expires_at), minutes, ...grant } });
      return { checkout: toView(checkoutRow), secret };
    });
    if (!outcome) throw integrityFailed(id);
    return outcome;
  }

  /** The holder returns a credential (reason returned). */
  async function checkin(actor: Actor, id: string) {
    const tenantId = actor.tenantId!;
    return db.transaction().execute(async (trx) => {
      const usable = isId(id) ? await custody.findForUse(trx, tenantId, id) : undefined;
      if (!usable) throw credentialNotFound(id);
      const active = await custody.activeOf(trx, tenantId, usable.id);
      if (!active || active.user_id !== actor.id || actor.kind !== 'user') throw notCheckedOut(id);
      const ended = await end(trx, actor, active, 'returned');
      if (!ended) throw notCheckedOut(id);
      return { checkout: toView(ended) };
    });
  }

  /** Active checkouts: the caller's own (mine, the default), or the tenant's (needs vault.credentials.read). */
  async function list(actor: Actor, query: { mine?: boolean }) {
    const mine = query.mine ?? true;
    if (!mine && !(await governance.can(actor, 'vault.credentials.read'))) {
      throw forbidden('FORBIDDEN', 'Every checkout of the tenant needs the permission vault.credentials.read, which your roles do not grant; GET /api/v1/checkouts shows your own.');
    }
    const rows = await custody.listActive(db, actor.tenantId!, mine ? actor.id : undefined);
    return { checkouts: rows.map(toView) };
  }

  /** An administrator forces a checkout back (reason forced). */
  async function release(actor: Actor, checkoutId: string) {
    const tenantId = actor.tenantId!;
    return db.transaction().execute(async (trx) => {
      const row = isId(checkoutId) ? await custody.findCheckout(trx, tenantId, checkoutId) : undefined;
      if (!row) throw notFound('CHECKOUT_NOT_FOUND', `No checkout ${checkoutId} in this tenant; see GET /api/v1/checkouts?mine=false.`);
      const ended = row.active_credential_id === null ? null : await end(trx, actor, row, 'forced');
      if (!ended) throw conflict('NOT_CHECKED_OUT', `Checkout ${checkoutId} has already ended (${row.reason ?? 'checked in'}).`);
      return { checkout: toView(ended) };
    });
  }

  /** The leader's sweep: checks in every lease that has run out (reason expired); answers how many. */
  async function expireDue(): Promise<number> {
    let released = 0;
    for (;;) {
      const due = await custody.expiredBefore(db, clock.now(), EXPIRY_BATCH);
      for (const lease of due) {
        const done = await db.transaction().execute(async (trx) => {
          const row = await custody.findCheckout(trx, lease.tenant_id, lease.id);
          if (!row || row.active_credential_id === null) return false;
          return (await end(trx, { kind: 'system', tenantId: lease.tenant_id, id: 'vault.custody-expire', ip: null }, row, 'expired')) !== null;
        });
        if (done) released += 1;
      }
      if (due.length < EXPIRY_BATCH) return released;
    }
  }

  /** Deactivation step: releases every active checkout of the user (reason deactivated) and flags each credential for rotation. */
  async function releaseOnDeactivation(trx: DbOrTx, actor: Actor, tenantId: string, userId: string): Promise<Record<string, number>> {
    let checkoutsReleased = 0;
    for (const row of await custody.listActive(trx, tenantId, userId)) {
      if (await end(trx, actor, row, 'deactivated', { alwaysRotate: true })) checkoutsReleased += 1;
    }
    return { checkoutsReleased };
  }

  return { checkout, checkin, list, release, expireDue, releaseOnDeactivation };
}
export type CustodyService = ReturnType<typeof createCustodyService>;
