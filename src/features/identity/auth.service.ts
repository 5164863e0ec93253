import type { Actor, SessionRestriction } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';
import { generateToken, hashToken } from '../../platform/crypto/tokens.js';
import { DomainError, conflict, forbidden, invalid, unauthenticated } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/log.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { clearFailedLogins, isLockedOut, recordFailedLogin } from './lockout.js';
import { passwordProblem, type SecurityPolicy } from './security-policy.js';
import { readSecurityPolicy } from './security-policy.store.js';
import { isRecentPassword, passwordReused, recordReplacedPassword } from './password-history.js';
import { liftRestriction, mfaRequiredFor, passwordExpired, restrictionAtLogin } from './session-restriction.js';
import { isAddressAllowed } from './network-policy.js';
import { readNetworkPolicy } from './network-policy.store.js';
import type { MfaService } from './mfa.service.js';
import * as activations from './activation.store.js';
import * as sessions from './sessions.store.js';
import * as users from './users.store.js';
import { createResolutionCache } from '../../platform/db/marker-cache.js';
import { allBuiltIn, permissionsOf, type CustomRoles, type Permission } from './permissions.js';
import { customRoleMap, roleSourcesOf } from './roles.store.js';

/** Session tokens start with this prefix; activation tokens with `csa_`. */
export const SESSION_TOKEN_PREFIX = 'cst_';
const ACTIVATION_TOKEN_PREFIX = 'csa_';
const ACTIVATION_TTL_MS = 72 * 3600_000;
// The idle expiry is slid at most this often, so a busy client's requests stay reads.
const TOUCH_INTERVAL_MS = 15_000;

/** The idle timeout of sessions opened before sessions recorded their own (migration 0002). */
const LEGACY_IDLE_MS = 30 * 60_000;

/** What identity needs to know of a tenant, looked up by the tenants feature. */
export interface TenantRef {
  id: string;
  slug: string;
  status: 'active' | 'suspended';
}
/** The tenants feature's lookup, handed in by main/. */
export type FindTenant = (db: DbOrTx, slug: string) => Promise<TenantRef | undefined>;

const invalidActivation = () =>
  invalid('ACTIVATION_TOKEN_INVALID', 'The activation token is invalid, already used or expired. Ask your administrator for a new one.');
const invalidCredentials = () => unauthenticated('INVALID_CREDENTIALS', 'The tenant, username or password is wrong.');
const networkNotAllowed = (ip: string | null) =>
  forbidden('NETWORK_NOT_ALLOWED', `Your address ${ip ?? 'unknown'} is outside your tenant's network allowlist. Connect from an allowed network, or ask a tenant administrator.`);
const tenantSuspended = () => forbidden('TENANT_SUSPENDED', 'This tenant is suspended by the provider. Contact your provider to resume it.');
const ssoRequired = (slug: string) =>
  forbidden('SSO_REQUIRED', `This tenant requires single sign-on: log in through your identity provider: GET /api/v1/auth/sso/start?tenant=${encodeURIComponent(slug)}. Password login is kept for the tenant's break-glass accounts only.`);

/** What a user's new session is, as login answers it. */
export interface OpenedSession {
  token: string;
  sessionId: string;
  expiresAt: string;
  idleTimeoutSeconds: number;
}

/** Activation, login, logout and the per-request token check of tenant users. */
export function createAuthService(deps: {
  db: Db;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  findTenant: FindTenant;
  publicUrl: string;
  /** The database's change marker (see Database.changeMarker); lets token checks skip a query safely. */
  changeMarker: () => string | null;
  /** The second factor (TOTP), asked for at login once a user enrolled. */
  secondFactor?: Pick<MfaService, 'isEnrolled' | 'verifyLogin'>;
  /** Single sign-on's rule on passwords: with ssoOnly, only break-glass accounts may log in or activate with one. */
  passwordAllowed?: (tenantId: string, userId: string | null) => Promise<'open' | 'break_glass' | 'sso_required'>;
}) {
  const { db, audit, clock } = deps;
  // What the token check learnt about each request's caller, so `me` and permission checks need no query.
  const resolutions = createResolutionCache<Awaited<ReturnType<typeof sessions.findSessionByHash>>>({ changeMarker: deps.changeMarker });
  const principals = new WeakMap<Actor, { user: { id: string; username: string; email: string; roles: string[] }; tenant: { id: string; slug: string } }>();
  // Each tenant's custom roles, valid until the next write anywhere (as token resolutions are).
  const customRoles = createResolutionCache<CustomRoles>({ changeMarker: deps.changeMarker, max: 1000 });

  /** Issues a one-time activation token (72 h) for a user, inside the caller's transaction. */
  async function issueActivation(trx: DbOrTx, tenant: { id: string; slug: string }, userId: string) {
    const token = generateToken(ACTIVATION_TOKEN_PREFIX);
    const now = clock.now();
    const expiresAt = now + ACTIVATION_TTL_MS;
    await activations.insertActivationToken(trx, { tenant_id: tenant.id, id: newId(now), user_id: userId, token_hash: hashToken(token), expires_at: expiresAt, used_at: null, created_at: now });
    const url = `${deps.publicUrl}/activate#tenant=${encodeURIComponent(tenant.slug)}&token=${token}`;
    return { token, expiresAt: new Date(expiresAt).toISOString(), url };
  }

  /** Creates a tenant's first administrator, pending activation, in the caller's transaction. */
  async function provisionAdmin(trx: DbOrTx, actor: Actor, tenant: { id: string; slug: string }, email: string) {
    const now = clock.now();
    const id = newId(now);
    const username = email.toLowerCase();
    await users.insertUser(trx, { tenant_id: tenant.id, id, username, email, display_name: null, status: 'pending', password_hash: null, created_at: now, updated_at: now, last_login_at: null, failed_logins: 0, locked_until: null, password_changed_at: null }, ['tenant-admin']);
    await audit.append(trx, tenant.id, { action: 'user.created', actor, target: { type: 'user', id }, details: { username, roles: ['tenant-admin'] } });
    return { user: { id, username, email }, activation: await issueActivation(trx, tenant, id) };
  }

  async function auditFailure(tenantId: string, action: 'auth.login.failed' | 'auth.activation.failed' | 'auth.password.change_failed', actor: Actor, details: Record<string, string>) {
    await db.transaction().execute((trx) => audit.append(trx, tenantId, { action, actor, outcome: 'failure', details }));
  }

  /** Sets a user's password with a one-time token; the token works once, for 72 hours. */
  async function activate(input: { tenant: string; token: string; password: string }, ip: string | null) {
    const tenant = await deps.findTenant(db, input.tenant);
    if (!tenant) throw invalidActivation();
    const row = await activations.findActivationToken(db, tenant.id, hashToken(input.token));
    const anonymous: Actor = { kind: 'user', tenantId: tenant.id, id: row?.user_id ?? 'anonymous', ip };
    if (!row || row.used_at !== null || row.expires_at <= clock.now()) {
      await auditFailure(tenant.id, 'auth.activation.failed', anonymous, { reason: !row ? 'unknown_token' : row.used_at ? 'used_token' : 'expired_token' });
      throw invalidActivation();
    }
    if (tenant.status !== 'active') throw tenantSuspended();
    if (!isAddressAllowed(await readNetworkPolicy(db, tenant.id), ip)) {
      await auditFailure(tenant.id, 'auth.activation.failed', anonymous, { reason: 'network_not_allowed' });
      throw networkNotAllowed(ip);
    }
    // With ssoOnly a new local password would be a way around the identity provider.
    if ((await deps.passwordAllowed?.(tenant.id, row.user_id)) === 'sso_required') {
      await auditFailure(tenant.id, 'auth.activation.failed', anonymous, { reason: 'sso_required' });
      throw ssoRequired(tenant.slug);
    }
    const policy = await readSecurityPolicy(db, tenant.id);
    const problem = passwordProblem(input.password, policy);
    if (problem) {
      await auditFailure(tenant.id, 'auth.activation.failed', anonymous, { reason: 'password_policy' });
      throw invalid('PASSWORD_POLICY', problem);
    }
    // A reset may not bring back one of the last N passwords (a first activation has none yet).
    const holder = await users.findUserById(db, tenant.id, row.user_id);
    if (holder && (await isRecentPassword(db, holder, input.password, policy.passwordHistory))) {
      await auditFailure(tenant.id, 'auth.activation.failed', anonymous, { reason: 'password_reused' });
      throw passwordReused(policy.passwordHistory);
    }
    const passwordHash = await hashPassword(input.password);
    return db.transaction().execute(async (trx) => {
      if (!(await activations.consumeActivationToken(trx, tenant.id, row.id, clock.now()))) throw invalidActivation();
      const user = await users.findUserById(trx, tenant.id, row.user_id);
      if (!user || user.status === 'inactive') throw invalidActivation();
      await recordReplacedPassword(trx, user, policy.passwordHistory, clock.now());
      await users.activateUser(trx, tenant.id, user.id, passwordHash, clock.now());
      await clearFailedLogins(trx, user);
      // A password reset: whoever held the old password loses every session it opened.
      if (user.status !== 'pending') await sessions.revokeSessions(trx, tenant.id, clock.now(), 'password_reset', user.id);
      await audit.append(trx, tenant.id, { action: 'auth.activated', actor: { ...anonymous, id: user.id }, target: { type: 'user', id: user.id } });
      return { user: { id: user.id, username: user.username, email: user.email, roles: await users.rolesOf(trx, tenant.id, user.id) } };
    });
  }

  /** Checks a password and opens a session; every outcome is audited in the tenant's chain. */
  async function login(input: { tenant: string; username: string; password: string; totp?: string }, ip: string | null) {
    const tenant = await deps.findTenant(db, input.tenant);
    const username = input.username.toLowerCase();
    const user = tenant ? await users.findUserByUsername(db, tenant.id, username) : undefined;
    const passwordOk = await verifyPassword(user?.password_hash ?? null, input.password);
    if (!tenant) throw invalidCredentials();
    const actor: Actor = { kind: 'user', tenantId: tenant.id, id: user?.id ?? 'anonymous', ip };
    if (!isAddressAllowed(await readNetworkPolicy(db, tenant.id), ip)) {
      await auditFailure(tenant.id, 'auth.login.failed', actor, { username, reason: 'network_not_allowed' });
      throw networkNotAllowed(ip);
    }
    const passwordRule = deps.passwordAllowed ? await deps.passwordAllowed(tenant.id, user?.id ?? null) : 'open';
    if (passwordRule === 'sso_required') {
      await auditFailure(tenant.id, 'auth.login.failed', actor, { username, reason: 'sso_required' });
      throw ssoRequired(tenant.slug);
    }
    const policy = await readSecurityPolicy(db, tenant.id);
    const now = clock.now();
    if (user && isLockedOut(user, now)) {
      await auditFailure(tenant.id, 'auth.login.failed', actor, { username, reason: 'locked' });
      throw forbidden('ACCOUNT_LOCKED', `This account is locked after too many failed logins until ${new Date(user.locked_until!).toISOString()}. Wait, or ask your tenant administrator to reactivate it.`);
    }
    /** Audits a failed attempt and counts it towards lockout; throws what the caller is told. */
    const refuse = async (reason: string): Promise<never> => {
      const locked = await db.transaction().execute(async (trx) => {
        await audit.append(trx, tenant.id, { action: 'auth.login.failed', actor, outcome: 'failure', details: { username, reason } });
        if (!user) return false;
        const lockedNow = await recordFailedLogin(trx, user, policy, now);
        if (lockedNow) await audit.append(trx, tenant.id, { action: 'auth.locked', actor, target: { type: 'user', id: user.id }, details: { failures: user.failed_logins + 1, minutes: policy.lockoutMinutes } });
        return lockedNow;
      });
      if (locked) throw forbidden('ACCOUNT_LOCKED', `Too many failed logins: this account is locked for ${policy.lockoutMinutes} minutes.`);
      // Under SSO-only every failed password login answers alike, so the answer never tells which accounts are break-glass.
      throw passwordRule === 'open' ? invalidCredentials() : ssoRequired(tenant.slug);
    };
    if (!user || !passwordOk) return refuse(user ? 'wrong_password' : 'unknown_user');
    if (tenant.status !== 'active') {
      await auditFailure(tenant.id, 'auth.login.failed', actor, { username, reason: 'tenant_suspended' });
      throw tenantSuspended();
    }
    if (user.status !== 'active' && user.status !== 'locked') {
      await auditFailure(tenant.id, 'auth.login.failed', actor, { username, reason: `user_${user.status}` });
      throw forbidden('USER_DISABLED', 'This account is not active. Ask your tenant administrator.');
    }
    const enrolled = Boolean(deps.secondFactor && (await deps.secondFactor.isEnrolled(tenant.id, user.id)));
    if (enrolled) {
      if (!input.totp) {
        await auditFailure(tenant.id, 'auth.login.failed', actor, { username, reason: 'mfa_required' });
        throw unauthenticated('MFA_REQUIRED', 'This account uses an authenticator app: send its current 6-digit code as "totp", or a recovery code.');
      }
      const code = input.totp;
      const factor = await db.transaction().execute((trx) => deps.secondFactor!.verifyLogin(trx, actor, tenant.id, user.id, code));
      if (!factor) return refuse('mfa_invalid');
    }
    // What the policy still asks of this user; until it is done the session reaches only the way to do it.
    const mfaEnrolmentRequired = !enrolled && deps.secondFactor !== undefined && (await mfaRequiredFor(policy, async () => permissionsOfRoles(tenant.id, await effectiveRoles(tenant.id, user.id))));
    const mustChangePassword = passwordExpired(user, policy, now);
    const restriction = restrictionAtLogin({ mfaEnrolment: mfaEnrolmentRequired, passwordChange: mustChangePassword });
    const owed = [...(mfaEnrolmentRequired ? ['mfa_enrolment'] : []), ...(mustChangePassword ? ['password_change'] : [])];
    const session = await db.transaction().execute(async (trx) => {
      const opened = await openSession(trx, { tenant, user, ip, method: 'password', policy, restriction, owed });
      // A password login while the tenant requires SSO: the SIEM must see every one of them.
      if (passwordRule === 'break_glass') await audit.append(trx, tenant.id, { action: 'auth.break_glass.login', actor: { ...actor, sessionId: opened.sessionId }, target: { type: 'session', id: opened.sessionId }, details: { username } });
      return opened;
    });
    return { token: session.token, expiresAt: session.expiresAt, idleTimeoutSeconds: session.idleTimeoutSeconds, mustChangePassword, mfaEnrolmentRequired };
  }

  /**
   * Opens a session for a user whose identity is proven (a password login, or single sign-on), in the given
   * transaction or its own: the same sessions table and token format for both. The tenant's policy sets the
   * lifetimes and the single-session rule; `restriction` is what a password login still owes. Single sign-on
   * owes none: the identity provider is responsible for the second factor.
   */
  async function openSession(trx: DbOrTx | undefined, input: { tenant: { id: string }; user: UserTable; ip: string | null; method: 'password' | 'sso'; policy?: SecurityPolicy; restriction?: SessionRestriction | null; owed?: string[]; details?: Record<string, unknown> }): Promise<OpenedSession> {
    if (!trx) return db.transaction().execute((own) => openSession(own, input));
    const { tenant, user, ip } = input;
    const policy = input.policy ?? (await readSecurityPolicy(trx, tenant.id));
    const restriction = input.restriction ?? null;
    const now = clock.now();
    const actor: Actor = { kind: 'user', tenantId: tenant.id, id: user.id, ip };
    const token = generateToken(SESSION_TOKEN_PREFIX);
    const sessionId = newId(now);
    const idleMs = policy.sessionIdleMinutes * 60_000;
    const expiresAt = now + policy.sessionMaxHours * 3600_000;
    await clearFailedLogins(trx, user);
    if (policy.singleSession) {
      const count = await sessions.revokeSessions(trx, tenant.id, now, 'single_session', user.id);
      if (count > 0) await audit.append(trx, tenant.id, { action: 'auth.sessions.revoked', actor, target: { type: 'user', id: user.id }, details: { reason: 'single_session', count } });
    }
    await sessions.insertSession(trx, { tenant_id: tenant.id, id: sessionId, user_id: user.id, token_hash: hashToken(token), created_at: now, last_seen_at: now, idle_expires_at: Math.min(now + idleMs, expiresAt), expires_at: expiresAt, revoked_at: null, revoked_reason: null, ip, idle_timeout_ms: idleMs, restriction });
    await users.recordLogin(trx, tenant.id, user.id, now);
    // Password logins keep their original details; other methods say which they were.
    const details = { username: user.username, ...(input.method === 'password' ? {} : { method: input.method }), ...input.details };
    await audit.append(trx, tenant.id, { action: 'auth.login.succeeded', actor: { ...actor, sessionId }, target: { type: 'session', id: sessionId }, details });
    if (restriction) await audit.append(trx, tenant.id, { action: 'auth.session.restricted', actor: { ...actor, sessionId }, target: { type: 'session', id: sessionId }, details: { restriction, owed: input.owed ?? [restriction] } });
    return { token, sessionId, expiresAt: new Date(expiresAt).toISOString(), idleTimeoutSeconds: idleMs / 1000 };
  }

  /** Resolves a session token on every request: revocation, suspension and expiry act on the next one. */
  async function authenticate(token: string, ip: string | null): Promise<Actor> {
    const hash = token.startsWith(SESSION_TOKEN_PREFIX) ? hashToken(token) : null;
    const rows = hash ? await resolutions.resolve(hash, () => sessions.findSessionByHash(db, hash), (found) => found.length > 0) : [];
    const row = rows[0];
    if (!row) throw unauthenticated('UNAUTHENTICATED', 'The token is not valid. Log in again with POST /api/v1/auth/login.');
    const now = clock.now();
    // A lockout stops password guessing; sessions opened before it by the real user go on.
    if (row.revoked_at !== null || (row.user_status !== 'active' && row.user_status !== 'locked')) throw unauthenticated('SESSION_REVOKED', 'This session has ended. Log in again.');
    if (row.tenant_status !== 'active') throw tenantSuspended();
    if (row.expires_at <= now || row.idle_expires_at <= now) throw unauthenticated('SESSION_EXPIRED', 'This session has expired. Log in again.');
    if (!isAddressAllowed(row.network_policy, ip)) throw networkNotAllowed(ip);
    if (now - row.last_seen_at >= TOUCH_INTERVAL_MS) {
      await sessions.touchSession(db, row.tenant_id, row.id, now, Math.min(now + (row.idle_timeout_ms ?? LEGACY_IDLE_MS), row.expires_at));
    }
    const actor: Actor = { kind: 'user', tenantId: row.tenant_id, id: row.user_id, ip, sessionId: row.id, ...(row.restriction ? { restriction: row.restriction } : {}) };
    const roles = [...new Set(rows.flatMap((r) => [r.role, r.group_role]).filter((role): role is string => role !== null))].sort();
    principals.set(actor, { user: { id: row.user_id, username: row.username, email: row.email, roles }, tenant: { id: row.tenant_id, slug: row.tenant_slug } });
    return actor;
  }

  /** Ends the caller's session; the same token is refused from the next request on. */
  async function logout(actor: Actor) {
    if (!actor.tenantId || !actor.sessionId) throw unauthenticated('UNAUTHENTICATED', 'Only a logged-in user can log out.');
    const { tenantId, sessionId } = actor;
    await db.transaction().execute(async (trx) => {
      await sessions.revokeSession(trx, tenantId, sessionId, clock.now(), 'logout');
      await audit.append(trx, tenantId, { action: 'auth.logout', actor, target: { type: 'session', id: sessionId } });
    });
  }

  /** Changes the caller's own password: the current one proves it is them; every other session of theirs ends. */
  async function changePassword(actor: Actor, input: { currentPassword: string; newPassword: string }) {
    const tenantId = actor.tenantId!;
    const user = await users.findUserById(db, tenantId, actor.id);
    if (!user || !(await verifyPassword(user.password_hash, input.currentPassword))) {
      await auditFailure(tenantId, 'auth.password.change_failed', actor, { reason: 'wrong_password' });
      throw unauthenticated('INVALID_CREDENTIALS', 'The current password is wrong.');
    }
    const policy = await readSecurityPolicy(db, tenantId);
    const problem = passwordProblem(input.newPassword, policy);
    if (problem) throw invalid('PASSWORD_POLICY', problem);
    // A change must change the password, whatever the history: the current one always counts.
    const remembered = Math.max(policy.passwordHistory, 1);
    if (await isRecentPassword(db, user, input.newPassword, remembered)) throw passwordReused(remembered);
    const passwordHash = await hashPassword(input.newPassword);
    await db.transaction().execute(async (trx) => {
      await recordReplacedPassword(trx, user, policy.passwordHistory, clock.now());
      await users.activateUser(trx, tenantId, user.id, passwordHash, clock.now());
      const ended = await sessions.revokeSessions(trx, tenantId, clock.now(), 'password_changed', user.id, actor.sessionId);
      await audit.append(trx, tenantId, { action: 'auth.password.changed', actor, target: { type: 'user', id: user.id }, details: { otherSessionsEnded: ended } });
      await liftRestriction(trx, audit, actor, 'password_change', null);
    });
  }

  /** The caller's own profile and tenant: already read by this request's token check, else read now. */
  async function me(actor: Actor) {
    const known = principals.get(actor);
    if (known) return known;
    const row = await db
      .selectFrom('users as u')
      .innerJoin('tenants as t', 't.id', 'u.tenant_id')
      .select(['u.id', 'u.username', 'u.email', 't.id as tenant_id', 't.slug'])
      .where('u.tenant_id', '=', actor.tenantId ?? '')
      .where('u.id', '=', actor.id)
      .executeTakeFirst();
    if (!row) throw new DomainError('UNAUTHENTICATED', 'The user no longer exists.', 'unauthenticated');
    const roles = await effectiveRoles(row.tenant_id, row.id);
    return { user: { id: row.id, username: row.username, email: row.email, roles }, tenant: { id: row.tenant_id, slug: row.slug } };
  }

  /**
   * Issues a fresh activation token for a tenant admin who never activated (theirs expired or was lost), and
   * voids the old ones. An active admin is refused: the provider must never be able to take over an account.
   */
  async function reissueAdminActivation(trx: DbOrTx, actor: Actor, tenant: { id: string; slug: string }) {
    const admin = await users.findPendingAdmin(trx, tenant.id);
    if (!admin) throw conflict('ADMIN_ALREADY_ACTIVE', "The tenant's administrator has already activated their account. Password resets are the tenant's own to do.");
    await activations.voidActivationTokens(trx, tenant.id, admin.id, clock.now());
    const activation = await issueActivation(trx, tenant, admin.id);
    await audit.append(trx, tenant.id, { action: 'auth.activation.issued', actor, target: { type: 'user', id: admin.id }, details: { username: admin.username } });
    return { user: { id: admin.id, username: admin.username }, activation };
  }

  /** The tenant of any tenant-plane caller (user or client), as the token check already read it when it could. */
  async function tenantOf(actor: Actor): Promise<{ id: string; slug: string }> {
    const known = principals.get(actor)?.tenant;
    if (known) return known;
    const row = await db.selectFrom('tenants').select(['id', 'slug']).where('id', '=', actor.tenantId ?? '').executeTakeFirst();
    if (!row) throw unauthenticated('UNAUTHENTICATED', 'The tenant no longer exists.');
    return row;
  }

  /** A user's roles, granted directly and through their groups, sorted and without repeats. */
  async function effectiveRoles(tenantId: string, userId: string): Promise<string[]> {
    return [...new Set((await roleSourcesOf(db, tenantId, userId)).map((r) => r.role))].sort();
  }

  /** What a set of roles grants in a tenant; custom roles are read (and cached) only when one is among them. */
  async function permissionsOfRoles(tenantId: string, roles: readonly string[]): Promise<Set<Permission>> {
    if (allBuiltIn(roles)) return permissionsOf(roles);
    return permissionsOf(roles, await customRoles.resolve(tenantId, () => customRoleMap(db, tenantId), () => true));
  }

  /** Whether the caller's roles grant a permission; the roles came with this request's token check. */
  async function hasPermission(actor: Actor, permission: string): Promise<boolean> {
    if (actor.kind !== 'user' || !actor.tenantId) return false;
    const roles = principals.get(actor)?.user.roles ?? (await effectiveRoles(actor.tenantId, actor.id));
    return (await permissionsOfRoles(actor.tenantId, roles)).has(permission as Permission);
  }

  /** Revokes every session of a tenant in the caller's transaction (suspension); audited in the tenant's chain. */
  async function revokeTenantSessions(trx: DbOrTx, actor: Actor, tenantId: string, reason: string) {
    const count = await sessions.revokeSessions(trx, tenantId, clock.now(), reason);
    await audit.append(trx, tenantId, { action: 'auth.sessions.revoked', actor, details: { reason, count } });
    return count;
  }

  return { provisionAdmin, issueActivation, reissueAdminActivation, activate, login, openSession, authenticate, logout, changePassword, me, tenantOf, hasPermission, permissionsOfRoles, effectiveRoles, revokeTenantSessions };
}
export type AuthService = ReturnType<typeof createAuthService>;
