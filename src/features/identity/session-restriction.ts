import type { Actor, SessionRestriction } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';
import { forbidden } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/create-app.js';
import { isAdministrative } from './permissions.js';
import type { SecurityPolicy } from './security-policy.js';
import { readSecurityPolicy } from './security-policy.store.js';
import * as users from './users.store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The session restrictions under which this route still answers (the way out of them, me, logout). */
    allowRestricted?: readonly SessionRestriction[];
  }
}

const DAY_MS = 86_400_000;

/**
 * Whether the tenant's policy requires this user to use a second factor: nobody, everyone, or ("admins")
 * whoever holds a permission that changes, deactivates or decides anything (`*.write`, `*.deactivate`, ...).
 */
export async function mfaRequiredFor(policy: Pick<SecurityPolicy, 'mfaRequired'>, permissions: () => Promise<Iterable<string>>): Promise<boolean> {
  if (policy.mfaRequired === 'none') return false;
  // The user's roles are resolved only when the answer depends on them.
  return policy.mfaRequired === 'all' || isAdministrative(await permissions());
}

/** Whether the user's password is at least `passwordMaxAgeDays` old (0: passwords never expire). */
export function passwordExpired(user: Pick<UserTable, 'password_changed_at' | 'updated_at'>, policy: Pick<SecurityPolicy, 'passwordMaxAgeDays'>, now: number): boolean {
  if (policy.passwordMaxAgeDays === 0) return false;
  // A row a node of the previous release wrote has no date yet: its last change bounds the password's age.
  const changedAt = user.password_changed_at ?? user.updated_at;
  return now - changedAt >= policy.passwordMaxAgeDays * DAY_MS;
}

/** A new session's restriction: enrol first (the second factor protects the account), then change an expired password. */
export function restrictionAtLogin(owed: { mfaEnrolment: boolean; passwordChange: boolean }): SessionRestriction | null {
  if (owed.mfaEnrolment) return 'mfa_enrolment';
  return owed.passwordChange ? 'password_change' : null;
}

/** What a session still owes once it enrolled an authenticator: the change of an expired password, or nothing. */
export async function restrictionAfterEnrolment(db: DbOrTx, tenantId: string, userId: string, now: number): Promise<SessionRestriction | null> {
  const user = await users.findUserById(db, tenantId, userId);
  return user && passwordExpired(user, await readSecurityPolicy(db, tenantId), now) ? 'password_change' : null;
}

/**
 * In the caller's transaction (the one that commits the password change or the enrolment), replaces the
 * caller's session restriction `satisfied` by `next` (null: a normal session from the next request on), audited.
 * A session not under `satisfied` is left as it is.
 */
export async function liftRestriction(trx: DbOrTx, audit: AuditLog, actor: Actor, satisfied: SessionRestriction, next: SessionRestriction | null): Promise<void> {
  if (actor.restriction !== satisfied || !actor.sessionId || !actor.tenantId) return;
  await trx.updateTable('sessions').set({ restriction: next }).where('tenant_id', '=', actor.tenantId).where('id', '=', actor.sessionId).execute();
  await audit.append(trx, actor.tenantId, { action: 'auth.session.restriction_lifted', actor, target: { type: 'session', id: actor.sessionId }, details: { lifted: satisfied, remaining: next ?? 'none' } });
}

const refusals: Record<SessionRestriction, () => Error> = {
  mfa_enrolment: () =>
    forbidden('MFA_ENROLMENT_REQUIRED', "Your tenant requires two-factor authentication for your account. Set up an authenticator app first: POST /api/v1/auth/mfa/totp/enroll, add the secret to the app, then POST /api/v1/auth/mfa/totp/confirm {\"code\":\"<6 digits>\"}; this session then works normally."),
  password_change: () =>
    forbidden('PASSWORD_EXPIRED', "Your password is older than your tenant's policy allows. Change it with POST /api/v1/auth/password {\"currentPassword\",\"newPassword\"}; this session then works normally."),
};

/**
 * The one guard of restricted sessions, after authentication and before the permission guard: a restricted
 * session reaches only routes marked `config: { allowRestricted: [...] }` with its restriction; anything
 * else answers 403 saying how to lift it. Normal sessions pass without work.
 */
export function requireUnrestricted(scope: HttpApp): void {
  scope.addHook('onRequest', (request, _reply, done) => {
    const restriction = request.actor?.restriction;
    if (!restriction || request.routeOptions.config.allowRestricted?.includes(restriction)) return done();
    done(refusals[restriction]());
  });
}
