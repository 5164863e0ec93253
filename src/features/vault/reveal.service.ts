import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { GroupCommit } from '../../platform/db/group-commit.js';
import type { StepUpGuard } from './step-up-guard.js';
import { conflict, DomainError, forbidden, invalid } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import { credentialNotFound } from './credentials.service.js';
import { openOrNull, versionContext } from './credentials.sealing.js';
import * as custody from './custody.store.js';
import type { UsableCredential } from './custody.store.js';
import type { RevealedSecret, RevealInput } from './reveal.schemas.js';
import { createClientUse, type ClientUseGovernance } from './client-reveal.js';
import { createCredentialRefs, refText, type CredentialRef } from './credential-refs.js';

const JUSTIFICATION_MIN = 5;

/** The slice of an access decision a reveal reads (access-engine's Decision, kept structural so vault imports no feature). */
export type UseDecision =
  | { granted: false; visible: boolean }
  | { granted: true; mode: 'allow' | 'justification' | 'approval'; denial: 'ACCESS_OUTSIDE_WINDOW' | null; matchedPolicyIds: string[]; requirements: { timeWindow: { outsideOf: string[] }; totpStepUp: boolean } };

/** What the vault asks of other features to govern the use of a credential; main/ wires them. */
export interface UseGovernance {
  /** The access policies' decision for the caller (throws 404 CREDENTIAL_NOT_FOUND for an unknown id). */
  decisionFor(actor: Actor, credentialId: string, action: 'reveal'): Promise<UseDecision>;
  /** The permission check (an administrator holding vault.credentials.read is told why, not 404). */
  can(actor: Actor, permission: string): boolean | Promise<boolean>;
  /** Whether the applicable credential policy asks for rotation after a reveal or a check-in (in the caller's transaction). */
  rotatesAfter(trx: DbOrTx, tenantId: string, credentialId: string, event: 'reveal' | 'checkin'): Promise<boolean>;
  /** The approved access request a use under an approval policy relies on (throws ACCESS_REQUEST_REQUIRED or ACCESS_REQUEST_EXPIRED). */
  approvalFor(actor: Actor, credentialId: string, action: 'reveal', requestId: string | null): Promise<{ requestId: string; emergency: boolean; justification: string }>;
  /** Checks a fresh TOTP code of the caller (single use): null when they have no authenticator enrolled. */
  verifyStepUp(actor: Actor, code: string): Promise<boolean | null>;
}

/** What a granted use carries into its audit event. */
export interface Grant {
  mode: 'allow' | 'justification' | 'approval';
  justification: string | null;
  requestId: string | null;
  /** Emergency (break-glass) access: flagged in the audit event, and the credential is marked for rotation. */
  emergency: boolean;
  policyIds: string[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const notGranted = (id: string) => forbidden('ACCESS_NOT_GRANTED', `No access policy grants you the use of credential ${id}. Ask a vault administrator for an access policy.`);
export const integrityFailed = (id: string) =>
  conflict('SECRET_INTEGRITY_FAILED', `The stored secret of credential ${id} failed its integrity check (it was altered or moved in the database), so it cannot be shown. The event was recorded and the credential flagged for rotation: tell your security team, and set a new secret with POST /api/v1/credentials/${id}/secret.`);

/** The rules of using a credential's current secret (reveal, checkout), shared by both. */
export function createUseRules(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; governance: UseGovernance; stepUps: StepUpGuard }) {
  const { audit, keyring, governance, stepUps } = deps;

  /** A policy asks for a fresh second factor with each use: the code is checked (and spent) before anything is read. */
  async function stepUp(actor: Actor, id: string, code: string | undefined): Promise<void> {
    if (!code) throw forbidden('TOTP_STEP_UP_REQUIRED', `An access policy asks for a fresh code from your authenticator app with each use of credential ${id}: send it as totp (6 digits).`);
    stepUps.assertOpen(actor.tenantId!, actor.id);
    const ok = await governance.verifyStepUp(actor, code);
    if (ok === null) throw forbidden('MFA_ENROLLMENT_REQUIRED', `An access policy asks for a TOTP code with each use of credential ${id}, and you have no authenticator enrolled: enrol one (POST /api/v1/auth/mfa/totp/enroll, then confirm) and try again.`);
    if (!ok) {
      stepUps.recordFailure(actor.tenantId!, actor.id);
      await audit.append(deps.db, actor.tenantId!, { action: 'credential.step_up_failed', actor, outcome: 'failure', target: { type: 'credential', id } });
      throw forbidden('TOTP_STEP_UP_FAILED', `The TOTP code was wrong or already used; wait for the next code of your authenticator app and try again.`);
    }
  }

  /**
   * The access-policy checks of a use, before any transaction: 2 indexed reads (the decision). Answers what the
   * audit event records, or throws the refusal a caller is owed.
   */
  async function authorize(actor: Actor, id: string, input: RevealInput): Promise<Grant> {
    if (actor.kind !== 'user') throw forbidden('ACCESS_NOT_GRANTED', 'Access policies grant credentials to users; an API client cannot check out a secret (it reveals one its explicit grants cover).');
    let decision: UseDecision;
    try {
      decision = await governance.decisionFor(actor, id, 'reveal');
    } catch (error) {
      // One message for an unknown id, another tenant's, and one the caller may not see.
      if (error instanceof DomainError && error.code === 'CREDENTIAL_NOT_FOUND') throw credentialNotFound(id);
      throw error;
    }
    if (!decision.granted) {
      if (decision.visible || (await governance.can(actor, 'vault.credentials.read'))) throw notGranted(id);
      throw credentialNotFound(id);
    }
    if (decision.denial === 'ACCESS_OUTSIDE_WINDOW') {
      throw forbidden('ACCESS_OUTSIDE_WINDOW', `The access policies grant credential ${id} only within their time windows, and now is outside the window of ${decision.requirements.timeWindow.outsideOf.map((p) => `access policy ${p}`).join(', ')}. Try again within it (see the policy's timeRestriction).`);
    }
    let justification = input?.justification?.trim() || null;
    let requestId = input?.requestId ?? null;
    let emergency = false;
    if (decision.mode === 'approval') {
      // The request carries the why; a justification sent with the use is recorded instead when given.
      const approved = await governance.approvalFor(actor, id, 'reveal', requestId);
      ({ requestId, emergency } = approved);
      justification ??= approved.justification;
    } else if (decision.mode === 'justification' && (justification?.length ?? 0) < JUSTIFICATION_MIN) {
      throw invalid('JUSTIFICATION_REQUIRED', `An access policy asks why you need credential ${id}: send a justification of at least ${JUSTIFICATION_MIN} characters (such as a ticket number); it is recorded in the audit log.`);
    }
    if (decision.requirements.totpStepUp) await stepUp(actor, id, input?.totp);
    return { mode: decision.mode, justification, requestId, emergency, policyIds: decision.matchedPolicyIds };
  }

  /** Loads the credential in the transaction and refuses it when disabled, checked out by another, or without a secret. */
  async function loadUsable(trx: DbOrTx, actor: Actor, id: string, options: { allowHolder: boolean }): Promise<UsableCredential> {
    const row = isId(id) ? await custody.findForUse(trx, actor.tenantId!, id) : undefined;
    if (!row) throw credentialNotFound(id);
    if (row.status !== 'active') throw conflict('CREDENTIAL_DISABLED', `Credential ${id} is ${row.status}; a vault administrator can make it active again (PATCH /api/v1/credentials/${id} {"status":"active"}).`);
    if (row.holder_id !== null && !(options.allowHolder && row.holder_id === actor.id)) {
      throw conflict('CREDENTIAL_CHECKED_OUT', `Credential ${id} is checked out${row.holder_id === actor.id ? ' by you already' : ' by another user'}; it can be used again once it is checked in (GET /api/v1/checkouts).`);
    }
    if (row.secret_sealed === null) throw conflict('SECRET_NOT_SET', `Credential ${id} has no secret yet; a vault administrator sets one with POST /api/v1/credentials/${id}/secret.`);
    return row;
  }

  /**
   * Opens the current secret; null after recording an integrity failure (flag for rotation and audit, in the
   * caller's transaction, which then commits and answers 409 SECRET_INTEGRITY_FAILED).
   */
  async function openCurrent(trx: DbOrTx, actor: Actor, row: UsableCredential, now: number): Promise<RevealedSecret | null> {
    const tenantId = row.tenant_id;
    const secret = await openOrNull(keyring, trx, versionContext(tenantId, row.id, row.version, 'secret'), row.secret_sealed!);
    const passphrase = row.passphrase_sealed === null ? null : await openOrNull(keyring, trx, versionContext(tenantId, row.id, row.version, 'passphrase'), row.passphrase_sealed);
    if (secret === null || (row.passphrase_sealed !== null && passphrase === null)) {
      await custody.markForRotation(trx, tenantId, row.id);
      await audit.append(trx, tenantId, { action: 'credential.integrity_failed', actor, outcome: 'failure', target: { type: 'credential', id: row.id }, details: { field: secret === null ? 'secret' : 'passphrase', version: row.version } });
      return null;
    }
    return { credentialId: row.id, version: row.version, username: row.username, type: row.type, secret, passphrase, device: { id: row.device_id, name: row.device_name }, revealedAt: iso(now) };
  }

  return { authorize, loadUsable, openCurrent };
}
export type UseRules = ReturnType<typeof createUseRules>;

/**
 * Reveal of a credential's current secret under the access policies (users) or an explicit grant (API clients).
 * The hot path: the decision (2 indexed reads, compiled policies cached), then one transaction reading the
 * credential, opening the secret and appending the audit event, which commits before the secret is returned
 * (no event, no secret).
 */
export function createRevealService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; governance: UseGovernance & ClientUseGovernance; transact: GroupCommit['transact']; stepUps: StepUpGuard }) {
  const { audit, clock, governance, transact } = deps;
  const rules = createUseRules(deps);
  const clientUse = createClientUse(deps);
  const refs = createCredentialRefs(deps);

  async function reveal(actor: Actor, ref: CredentialRef, input: RevealInput): Promise<RevealedSecret> {
    const id = await refs.resolve(actor, ref);
    try {
      return await revealById(actor, id, input);
    } catch (error) {
      // A caller who named an account it may not see is not told that account's credential id.
      if (!('id' in ref) && error instanceof DomainError && error.code === 'CREDENTIAL_NOT_FOUND') throw credentialNotFound(refText(ref));
      throw error;
    }
  }

  async function revealById(actor: Actor, id: string, input: RevealInput): Promise<RevealedSecret> {
    // Clients never check out (custody keeps refusing them in rules.authorize); they reveal by explicit grant.
    const grant = actor.kind === 'client' ? await clientUse.authorize(actor, id, input) : await rules.authorize(actor, id, input);
    const tenantId = actor.tenantId!;
    // On SQLite concurrent reveals share a commit (platform/db/group-commit.ts); each is answered after it.
    const outcome = await transact(async (trx) => {
      const row = await rules.loadUsable(trx, actor, id, { allowHolder: true });
      const revealed = await rules.openCurrent(trx, actor, row, clock.now());
      if (!revealed) return null;
      await audit.append(trx, tenantId, { action: 'credential.revealed', actor, target: { type: 'credential', id: row.id }, details: { version: row.version, ...grant } });
      // Break-glass use leaves a secret someone outside the normal approvals has seen: it is rotated.
      if (grant.emergency || (await governance.rotatesAfter(trx, tenantId, row.id, 'reveal'))) await custody.markForRotation(trx, tenantId, row.id);
      return revealed;
    });
    if (!outcome) throw integrityFailed(id);
    return outcome;
  }

  return { reveal, rules };
}
export type RevealService = ReturnType<typeof createRevealService>;
