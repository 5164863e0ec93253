import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import { conflict, invalid, notFound, unauthenticated } from '../../platform/errors.js';
import { isId } from '../../platform/ids.js';
import { revokeSessions } from './sessions.store.js';
import { verifyPassword } from './passwords.js';
import * as store from './mfa.store.js';
import * as users from './users.store.js';
import { readSecurityPolicy } from './security-policy.store.js';
import { liftRestriction, mfaRequiredFor, restrictionAfterEnrolment } from './session-restriction.js';

const PERIOD_MS = 30_000;
const RECOVERY_CODES = 10;
const RECOVERY_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

const totp = (secret: string, label = 'custos') => new TOTP({ issuer: 'Custos', label, secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
const recoveryHash = (code: string) => createHash('sha256').update(code.toLowerCase().replace(/[\s-]/g, '')).digest('hex');

/** A readable single-use code, about 58 bits: xxxx-xxxx-xxxx. */
function recoveryCode(): string {
  const chars = Array.from({ length: 12 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}-${chars.slice(8).join('')}`;
}

/** The 30-second step whose code this is (the current one, or one step either side for clock skew), or null. */
function matchingStep(secret: string, code: string, now: number): number | null {
  const current = Math.floor(now / PERIOD_MS);
  const generator = totp(secret);
  for (const step of [current - 1, current, current + 1]) {
    const expected = Buffer.from(generator.generate({ timestamp: step * PERIOD_MS }));
    const given = Buffer.from(code);
    if (expected.length === given.length && timingSafeEqual(expected, given)) return step;
  }
  return null;
}

/** TOTP second factor (RFC 6238, any authenticator app) with single-use recovery codes. */
export function createMfaService(deps: {
  db: Db;
  audit: AuditLog;
  clock: Clock;
  keyring: Keyring;
  /** What a user's roles grant (the tenant's policy may require a second factor of administrators). */
  permissionsOfUser: (tenantId: string, userId: string) => Promise<Iterable<string>>;
}) {
  const { db, audit, clock, keyring } = deps;
  const sealContext = (tenantId: string, userId: string) => ({ tenantId, entity: 'mfa_totp', id: userId, field: 'secret' });
  const secretOf = async (tenantId: string, userId: string, sealed: string) => (await keyring.open(db, sealContext(tenantId, userId), sealed)).toString('utf8');

  /** Starts enrolment: a new secret for the caller's authenticator app (shown now, stored sealed). */
  async function enroll(actor: Actor) {
    const tenantId = actor.tenantId!;
    const existing = await store.findTotp(db, tenantId, actor.id);
    if (existing?.confirmed_at) throw conflict('MFA_ALREADY_ENROLLED', 'An authenticator is already set up; disable it first to set up another.');
    const secret = new Secret({ size: 20 }).base32;
    const label = await store.accountLabel(db, tenantId, actor.id);
    await db.transaction().execute(async (trx) => {
      const sealed = await keyring.seal(trx, sealContext(tenantId, actor.id), secret);
      await store.saveTotp(trx, { tenant_id: tenantId, user_id: actor.id, secret_sealed: sealed, confirmed_at: null, last_step: null, created_at: clock.now() });
    });
    return { secret, otpauthUrl: totp(secret, label).toString() };
  }

  /** Confirms enrolment with a first code; answers ten recovery codes, shown only now. */
  async function confirm(actor: Actor, code: string) {
    const tenantId = actor.tenantId!;
    const row = await store.findTotp(db, tenantId, actor.id);
    if (!row || row.confirmed_at) throw conflict('MFA_NOT_ENROLLING', 'Start with POST /api/v1/auth/mfa/totp/enroll.');
    const step = matchingStep(await secretOf(tenantId, actor.id, row.secret_sealed), code, clock.now());
    if (step === null) throw invalid('MFA_CODE_INVALID', 'The code does not match. Check the time on your device and enter the current 6-digit code.');
    const codes = Array.from({ length: RECOVERY_CODES }, recoveryCode);
    // A session restricted until enrolment is lifted with it (or moves on to an expired password's change).
    const next = actor.restriction === 'mfa_enrolment' ? await restrictionAfterEnrolment(db, tenantId, actor.id, clock.now()) : null;
    await db.transaction().execute(async (trx) => {
      if (!(await store.advanceStep(trx, tenantId, actor.id, step, clock.now()))) throw invalid('MFA_CODE_INVALID', 'That code was already used; wait for the next one.');
      await store.replaceRecoveryCodes(trx, tenantId, actor.id, codes.map(recoveryHash));
      await audit.append(trx, tenantId, { action: 'auth.mfa.enrolled', actor, target: { type: 'user', id: actor.id } });
      await liftRestriction(trx, audit, actor, 'mfa_enrolment', next);
    });
    return { recoveryCodes: codes };
  }

  /** Removes the authenticator after the caller proves their password again. */
  async function disable(actor: Actor, password: string) {
    const tenantId = actor.tenantId!;
    const user = await users.findUserById(db, tenantId, actor.id);
    if (!(await verifyPassword(user?.password_hash ?? null, password))) throw unauthenticated('INVALID_CREDENTIALS', 'The password is wrong.');
    const row = await store.findTotp(db, tenantId, actor.id);
    if (!row?.confirmed_at) throw conflict('MFA_NOT_ENROLLED', 'No authenticator is set up.');
    if (await mfaRequiredFor(await readSecurityPolicy(db, tenantId), () => deps.permissionsOfUser(tenantId, actor.id))) {
      await db.transaction().execute((trx) => audit.append(trx, tenantId, { action: 'auth.mfa.disable_refused', actor, outcome: 'failure', target: { type: 'user', id: actor.id } }));
      throw conflict('MFA_REQUIRED_BY_POLICY', "Your tenant's security policy (mfaRequired) requires a second factor of you, so the authenticator cannot be removed. If you lost the device, log in with a recovery code; to replace it, ask a tenant administrator.");
    }
    await db.transaction().execute(async (trx) => {
      await store.deleteMfa(trx, tenantId, actor.id);
      await audit.append(trx, tenantId, { action: 'auth.mfa.disabled', actor, target: { type: 'user', id: actor.id } });
    });
  }

  /**
   * An administrator removes a user's authenticator (a lost or replaced phone): the user's sessions end, and where
   * the policy asks for a second factor they enrol again at their next login.
   */
  async function resetFor(actor: Actor, userId: string) {
    const tenantId = actor.tenantId!;
    await db.transaction().execute(async (trx) => {
      const user = isId(userId) ? await users.findUserById(trx, tenantId, userId) : undefined;
      if (!user) throw notFound('USER_NOT_FOUND', `No user ${userId} in this tenant.`);
      const row = await store.findTotp(trx, tenantId, userId);
      if (!row?.confirmed_at) throw conflict('MFA_NOT_ENROLLED', 'This user has no authenticator set up.');
      await store.deleteMfa(trx, tenantId, userId);
      const ended = await revokeSessions(trx, tenantId, clock.now(), 'mfa_reset', userId);
      await audit.append(trx, tenantId, { action: 'auth.mfa.reset', actor, target: { type: 'user', id: userId }, details: { sessionsEnded: ended } });
    });
  }

  /** Whether the user must give a second factor at login. */
  async function isEnrolled(tenantId: string, userId: string): Promise<boolean> {
    return Boolean((await store.findTotp(db, tenantId, userId))?.confirmed_at);
  }

  /** Checks a login's second factor: a TOTP code not used before, or an unused recovery code. */
  async function verifyLogin(trx: DbOrTx, actor: Actor, tenantId: string, userId: string, code: string): Promise<'totp' | 'recovery' | null> {
    const row = await store.findTotp(trx, tenantId, userId);
    if (!row?.confirmed_at) return null;
    if (/^\d{6}$/.test(code)) {
      const step = matchingStep(await secretOf(tenantId, userId, row.secret_sealed), code, clock.now());
      return step !== null && (await store.advanceStep(trx, tenantId, userId, step)) ? 'totp' : null;
    }
    if (!(await store.useRecoveryCode(trx, tenantId, userId, recoveryHash(code), clock.now()))) return null;
    await audit.append(trx, tenantId, { action: 'auth.mfa.recovery_used', actor, target: { type: 'user', id: userId } });
    return 'recovery';
  }

  return { enroll, confirm, disable, resetFor, isEnrolled, verifyLogin };
}
export type MfaService = ReturnType<typeof createMfaService>;
