import { randomBytes } from 'node:crypto';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog, DetailValue } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { hashToken } from '../../platform/crypto/tokens.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db, DbOrTx } from '../../platform/db/database.js';
import type { UserTable } from '../../platform/db/schema.js';
import { DomainError, forbidden, invalid, notFound, unauthenticated } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/log.js';
import type { FindTenant } from '../identity/auth.service.js';
import { isAddressAllowed } from '../identity/network-policy.js';
import { readNetworkPolicy } from '../identity/network-policy.store.js';
import * as users from '../identity/users.store.js';
import type { SsoOidc } from './sso-oidc.js';
import { SsoRefusal, findOrProvisionUser, refuse, syncMappedGroups } from './sso-provisioning.js';
import { CALLBACK_PATH, secretContext } from './sso-settings.service.js';
import * as store from './sso.store.js';

/** How long a started login may take at the IdP; its row is single use. */
export const LOGIN_TTL_MS = 10 * 60_000;

/** Identity's session opening: the same sessions table and token format as password login. */
export type OpenSession = (trx: DbOrTx, input: { tenant: { id: string; slug: string }; user: UserTable; ip: string | null; method: 'sso'; details?: Record<string, unknown> }) => Promise<{ token: string; expiresAt: string; idleTimeoutSeconds: number }>;

const BINDING = /^[A-Za-z0-9_-]{43}$/;
const stateInvalid = () => invalid('SSO_STATE_INVALID', 'This sign-in link is invalid, already used, expired or was started in another browser. Start again: GET /api/v1/auth/sso/start?tenant=<your tenant>.');

/**
 * A safe place to land after login: a path of this server. Absolute URLs, scheme-relative `//host` and
 * backslash tricks would send the freshly logged-in browser elsewhere (open redirect), so they are refused.
 */
export function safeReturnTo(value: string | undefined): string {
  if (value === undefined || value === '') return '/';
  const base = 'http://custos.invalid';
  let url: URL | null;
  try {
    url = new URL(value, base);
  } catch {
    url = null;
  }
  // Backslashes, whitespace and control characters are refused outright: browsers read "/\host" as "//host".
  const odd = [...value].some((c) => c === '\\' || c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f);
  const refuse = () => invalid('SSO_RETURN_TO_INVALID', 'returnTo must be a path on this server, such as /vault; other sites are not allowed.');
  if (!value.startsWith('/') || value.startsWith('//') || odd || !url || url.origin !== base) throw refuse();
  // Normalising collapses dot-segments ("/..//evil.example" becomes "//evil.example"): check what is returned too.
  const path = `${url.pathname}${url.search}${url.hash}`;
  if (path.startsWith('//') || path.includes('\\')) throw refuse();
  return path;
}

/** The browser side of single sign-on: start (redirect to the IdP) and callback (validate, find the user, open a session). */
export function createSsoLoginService(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; log: Logger; oidc: SsoOidc; publicUrl: string; findTenant: FindTenant; openSession: OpenSession }) {
  const { db, audit, clock, keyring, oidc } = deps;
  const redirectUri = `${deps.publicUrl}${CALLBACK_PATH}`;

  async function clientFor(trx: DbOrTx, tenantId: string, settings: store.StoredSsoSettings) {
    const secret = (await keyring.open(trx, secretContext(tenantId), settings.clientSecretSealed)).toString('utf8');
    return oidc.configuration(tenantId, { issuer: settings.issuer, clientId: settings.clientId, metadata: settings.metadata! }, secret);
  }

  /** Audits a refused callback in its own transaction (the refused work rolled back) and answers what to throw. */
  async function failed(tenantId: string, ip: string | null, reason: string, details: Record<string, DetailValue> = {}) {
    const actor: Actor = { kind: 'user', tenantId, id: 'anonymous', ip };
    await db.transaction().execute((trx) => audit.append(trx, tenantId, { action: 'auth.sso.login.failed', actor, outcome: 'failure', details: { reason, ...details } }));
  }

  /**
   * Starts a login: a single-use row holds state, nonce and PKCE verifier for 10 minutes, bound to this
   * browser's custos_sso cookie (reused when it has one, so parallel logins in one browser work).
   */
  async function start(input: { tenant: string; returnTo?: string }, ip: string | null, browser: string | null) {
    const returnTo = safeReturnTo(input.returnTo);
    const tenant = await deps.findTenant(db, input.tenant);
    const settings = tenant ? await store.readSsoSettings(db, tenant.id) : null;
    if (!tenant || !settings?.enabled || !settings.metadata) throw notFound('SSO_NOT_CONFIGURED', `Single sign-on is not set up for tenant "${input.tenant}". Log in with POST /api/v1/auth/login, or ask your tenant administrator.`);
    if (tenant.status !== 'active') throw forbidden('TENANT_SUSPENDED', 'This tenant is suspended by the provider. Contact your provider to resume it.');
    if (!isAddressAllowed(await readNetworkPolicy(db, tenant.id), ip)) throw forbidden('NETWORK_NOT_ALLOWED', `Your address ${ip ?? 'unknown'} is outside your tenant's network allowlist. Connect from an allowed network, or ask a tenant administrator.`);
    const binding = browser && BINDING.test(browser) ? browser : randomBytes(32).toString('base64url');
    const request = await oidc.authorizationRequest(await clientFor(db, tenant.id, settings), redirectUri, settings.scopes);
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      await store.purgeLogins(trx, tenant.id, now);
      await store.insertLogin(trx, { tenant_id: tenant.id, id: newId(now), state_hash: hashToken(request.state), browser_hash: hashToken(binding), nonce: request.nonce, code_verifier: request.codeVerifier, return_to: returnTo, created_at: now, expires_at: now + LOGIN_TTL_MS, used_at: null });
    });
    return { location: request.url, browser: binding, maxAgeSeconds: LOGIN_TTL_MS / 1000 };
  }

  /** The IdP's redirect back: the state (once, same browser), the code exchange and token checks, the user, a session. */
  async function callback(input: { query: { state?: string; error?: string }; rawQuery: string }, ip: string | null, browser: string | null) {
    const state = input.query.state;
    const row = state ? await store.findLoginByState(db, hashToken(state)) : undefined;
    if (!row) throw stateInvalid();
    const tenantId = row.tenant_id;
    const now = clock.now();
    const early = row.used_at !== null ? 'state_replayed' : row.expires_at <= now ? 'state_expired' : !browser || hashToken(browser) !== row.browser_hash ? 'other_browser' : null;
    // A login started in another browser is not consumed: the real user's own callback can still finish it.
    if (early || !(await store.consumeLogin(db, tenantId, row.id, now))) {
      await failed(tenantId, ip, early ?? 'state_replayed');
      throw stateInvalid();
    }
    // What is known of the person so far, for the audit event of a refusal.
    const known: Record<string, DetailValue> = {};
    try {
      return await finish(tenantId, row, input, ip, now, known);
    } catch (error) {
      if (error instanceof SsoRefusal) await failed(tenantId, ip, error.reason, known);
      else if (!(error instanceof DomainError)) deps.log.warn({ err: error, tenantId }, 'sso callback failed');
      throw error;
    }
  }

  async function finish(tenantId: string, row: { return_to: string; nonce: string; code_verifier: string }, input: { query: { state?: string; error?: string }; rawQuery: string }, ip: string | null, now: number, known: Record<string, DetailValue>) {
    const tenant = await store.tenantById(db, tenantId);
    const settings = await store.readSsoSettings(db, tenantId);
    if (!tenant || !settings?.enabled || !settings.metadata) throw refuse('sso_disabled', notFound('SSO_NOT_CONFIGURED', 'Single sign-on was turned off for this tenant while you were signing in. Log in with your password, or ask your tenant administrator.'));
    if (input.query.error) throw refuse('idp_error', unauthenticated('SSO_IDP_ERROR', `Your identity provider refused the sign-in (${input.query.error.slice(0, 100)}). Start again, or ask your administrator whether you are assigned to the Custos application.`));
    const config = await clientFor(db, tenantId, settings);
    const wanted = ['email', 'email_verified', ...(settings.groupMapping.length > 0 ? [settings.groupClaim] : [])];
    let claims;
    try {
      claims = await oidc.exchange(config, new URL(`${redirectUri}?${input.rawQuery}`), { state: input.query.state!, nonce: row.nonce, codeVerifier: row.code_verifier }, wanted);
    } catch (error) {
      const why = (error as { code?: string }).code ?? (error as Error).name;
      throw refuse('token_invalid', unauthenticated('SSO_TOKEN_INVALID', `The identity provider's answer failed validation (${why}): the code, the ID token's issuer, audience, nonce or signature. Start again; if it keeps failing, ask your administrator to check the SSO settings.`));
    }
    Object.assign(known, { issuer: claims.iss, subject: claims.sub, ...(typeof claims.email === 'string' ? { email: claims.email } : {}) });
    if (tenant.status !== 'active') throw refuse('tenant_suspended', forbidden('TENANT_SUSPENDED', 'This tenant is suspended by the provider. Contact your provider to resume it.'));
    if (!isAddressAllowed(await readNetworkPolicy(db, tenantId), ip)) throw refuse('network_not_allowed', forbidden('NETWORK_NOT_ALLOWED', `Your address ${ip ?? 'unknown'} is outside your tenant's network allowlist. Connect from an allowed network, or ask a tenant administrator.`));
    const system: Actor = { kind: 'system', tenantId, id: 'sso', ip };
    const session = await db.transaction().execute(async (trx) => {
      const user = await findOrProvisionUser(trx, audit, { tenantId, settings, claims, actor: system, now });
      Object.assign(known, { userId: user.id, username: user.username });
      const disabled = () => forbidden('USER_DISABLED', 'This account is not active. Ask your tenant administrator.');
      if (user.status === 'inactive') throw refuse('user_inactive', disabled());
      if (user.status === 'locked' || (user.locked_until !== null && user.locked_until > now)) throw refuse('user_locked', forbidden('ACCOUNT_LOCKED', 'This account is locked. Wait, or ask your tenant administrator to unlock it.'));
      if (user.status !== 'active' && user.status !== 'pending') throw refuse(`user_${user.status}`, disabled());
      // A user created by an administrator becomes active by signing in through the IdP, as by activation.
      if (user.status === 'pending') await users.updateUser(trx, tenantId, user.id, { status: 'active' }, now);
      await syncMappedGroups(trx, audit, { tenantId, userId: user.id, settings, claims, actor: system });
      return deps.openSession(trx, { tenant, user: { ...user, status: 'active' }, ip, method: 'sso', details: { issuer: claims.iss } });
    });
    // The cookie lives as long as the session may (its absolute expiry); the server still checks idle expiry.
    return { ...session, maxAgeSeconds: Math.max(0, (Date.parse(session.expiresAt) - now) / 1000), returnTo: row.return_to };
  }

  /** Whether a user may log in (or activate) with a password: always, unless the tenant is SSO only and they are not break-glass. */
  async function passwordAllowed(tenantId: string, userId: string | null): Promise<'open' | 'break_glass' | 'sso_required'> {
    const settings = await store.readSsoSettings(db, tenantId);
    if (!settings?.enabled || !settings.ssoOnly) return 'open';
    return userId !== null && settings.breakGlassUsers.includes(userId) ? 'break_glass' : 'sso_required';
  }

  return { start, callback, passwordAllowed };
}
export type SsoLoginService = ReturnType<typeof createSsoLoginService>;
