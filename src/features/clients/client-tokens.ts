import { timingSafeEqual } from 'node:crypto';
import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import { generateToken, hashToken } from '../../platform/crypto/tokens.js';
import { DomainError, forbidden, unauthenticated } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/log.js';
import { isAddressAllowed } from '../identity/network-policy.js';
import * as store from './clients.store.js';
import { createResolutionCache } from '../../platform/db/marker-cache.js';

/** Access tokens of API clients start with this prefix (sessions with cst_). */
export const CLIENT_TOKEN_PREFIX = 'cct_';
/** Access tokens live one hour (and never past their client's expiry). */
export const CLIENT_TOKEN_TTL_MS = 3600_000;
// Ended tokens are kept a day (for the operator reading the table), then dropped at the client's next token request.
const ENDED_TOKEN_KEEP_MS = 24 * 3600_000;

/** Public client identifiers: cci_ and 128 random bits, unique across the installation. */
export const CLIENT_ID_PREFIX = 'cci_';
const CLIENT_ID_PATTERN = /^cci_[A-Za-z0-9_-]{22}$/;

/** Whether a bearer token is a client access token (the /api/v1 resolver dispatches on it). */
export const isClientToken = (token: string) => token.startsWith(CLIENT_TOKEN_PREFIX);

/** An RFC 6749 section 5.2 error: the code is the RFC's error in upper case; the token route lower-cases it. */
const oauthError = (code: 'INVALID_REQUEST' | 'INVALID_CLIENT' | 'UNSUPPORTED_GRANT_TYPE' | 'INVALID_SCOPE' | 'UNAUTHORIZED_CLIENT', message: string) =>
  new DomainError(code, message, code === 'INVALID_CLIENT' ? 'unauthenticated' : 'invalid');

/** The client's own range list, in the shape the tenant allowlist check reads (compiled once per distinct text). */
const clientAllows = (allowedCidrsJson: string, ip: string | null) => isAddressAllowed(`{"allowedCidrs":${allowedCidrsJson}}`, ip);

/** The token part of API clients: the client credentials grant and the per-request check of client tokens. */
export function createClientTokens(deps: { db: Db; audit: AuditLog; clock: Clock; log: Logger; changeMarker: () => string | null }) {
  const { db, audit, clock } = deps;
  // Token resolutions are kept while the change marker proves nothing was committed since (as identity does for sessions).
  const resolutions = createResolutionCache<{ row: Awaited<ReturnType<typeof store.findTokenByHash>>[number]; scopes: ReadonlySet<string> } | undefined>({ changeMarker: deps.changeMarker });
  // The scopes each request's client holds, learnt by its token check, so the permission guard needs no query.
  const grants = new WeakMap<Actor, ReadonlySet<string>>();

  /**
   * RFC 6749 section 4.4: authenticates the client by its secret and issues a one-hour bearer token with the
   * requested scopes (default: all of the client's). Every refusal of a known client is audited in its tenant.
   */
  async function requestToken(input: { clientId: string; clientSecret: string; grantType?: string; scope?: string }, ip: string | null) {
    const client = await store.findClientByClientId(db, input.clientId);
    if (!client) {
      // No tenant to audit in: the operator's log keeps the attempt. Only a well-formed id is logged, in case a
      // caller swapped the fields and sent its secret as client_id.
      deps.log.warn({ clientId: CLIENT_ID_PATTERN.test(input.clientId) ? input.clientId : '(malformed)', ip }, 'token request for an unknown client');
      throw oauthError('INVALID_CLIENT', 'Client authentication failed: check the client_id and client_secret.');
    }
    const actor: Actor = { kind: 'client', tenantId: client.tenant_id, id: client.id, ip };
    const refuse = async (reason: string, error: DomainError): Promise<never> => {
      await db.transaction().execute((trx) =>
        audit.append(trx, client.tenant_id, { action: 'auth.client_token.failed', actor, outcome: 'failure', target: { type: 'client', id: client.id }, details: { clientId: client.client_id, reason } }),
      );
      throw error;
    };
    const presented = Buffer.from(hashToken(input.clientSecret), 'hex');
    if (!timingSafeEqual(presented, Buffer.from(client.secret_hash, 'hex'))) {
      return refuse('wrong_secret', oauthError('INVALID_CLIENT', 'Client authentication failed: check the client_id and client_secret.'));
    }
    if (input.grantType === undefined) return refuse('missing_grant_type', oauthError('INVALID_REQUEST', 'Send grant_type=client_credentials.'));
    if (input.grantType !== 'client_credentials') {
      return refuse('unsupported_grant_type', oauthError('UNSUPPORTED_GRANT_TYPE', 'Only grant_type=client_credentials is supported.'));
    }
    const now = clock.now();
    if (client.status !== 'active') return refuse('client_inactive', oauthError('INVALID_CLIENT', 'This client is deactivated; ask a tenant administrator to reactivate it.'));
    if (client.expires_at !== null && client.expires_at <= now) {
      return refuse('client_expired', oauthError('INVALID_CLIENT', `This client expired at ${new Date(client.expires_at).toISOString()}; ask a tenant administrator to extend it.`));
    }
    if (client.tenant_status !== 'active') return refuse('tenant_suspended', oauthError('UNAUTHORIZED_CLIENT', 'This tenant is suspended by the provider; no token is issued.'));
    if (!isAddressAllowed(client.network_policy, ip)) {
      return refuse('network_not_allowed', oauthError('UNAUTHORIZED_CLIENT', `Your address ${ip ?? 'unknown'} is outside the tenant's network allowlist.`));
    }
    if (!clientAllows(client.allowed_cidrs, ip)) {
      return refuse('client_network_not_allowed', oauthError('UNAUTHORIZED_CLIENT', `Your address ${ip ?? 'unknown'} is outside this client's allowed ranges.`));
    }
    const allowed = JSON.parse(client.scopes) as string[];
    let scopes = allowed;
    if (input.scope !== undefined) {
      const asked = [...new Set(input.scope.split(/\s+/).filter(Boolean))].sort();
      const extra = asked.filter((s) => !allowed.includes(s));
      if (asked.length === 0) return refuse('invalid_scope', oauthError('INVALID_SCOPE', 'scope is empty: name one or more of the client\'s scopes separated by spaces, or leave scope out for all of them.'));
      if (extra.length > 0) return refuse('invalid_scope', oauthError('INVALID_SCOPE', `This client may not have ${extra.join(', ')}; its scopes are: ${allowed.join(' ')}.`));
      scopes = asked;
    }
    const token = generateToken(CLIENT_TOKEN_PREFIX);
    const expiresAt = Math.min(now + CLIENT_TOKEN_TTL_MS, client.expires_at ?? Infinity);
    const tokenId = newId(now);
    const issued = await db.transaction().execute(async (trx) => {
      // A rotation or deactivation that committed since the checks above wins: no token outlives it.
      if (!(await store.markTokenIssued(trx, client.tenant_id, client.id, client.secret_hash, now))) return false;
      await store.deleteEndedTokens(trx, client.tenant_id, client.id, now - ENDED_TOKEN_KEEP_MS);
      await store.insertToken(trx, { tenant_id: client.tenant_id, id: tokenId, client_id: client.id, token_hash: hashToken(token), scopes: JSON.stringify(scopes), created_at: now, expires_at: expiresAt, revoked_at: null, revoked_reason: null, ip });
      await audit.append(trx, client.tenant_id, {
        action: 'auth.client_token.issued', actor, target: { type: 'client', id: client.id },
        details: { clientId: client.client_id, tokenId, scopes, expiresAt: new Date(expiresAt).toISOString() },
      });
      return true;
    });
    if (!issued) return refuse('client_changed', oauthError('INVALID_CLIENT', 'The client was deactivated or its secret rotated while the token was being issued.'));
    return { access_token: token, token_type: 'Bearer' as const, expires_in: Math.floor((expiresAt - now) / 1000), scope: scopes.join(' ') };
  }

  /** Resolves a client token on every request: revocation, deactivation, expiry and addresses act on the next one. */
  async function authenticate(token: string, ip: string | null): Promise<Actor> {
    const hash = isClientToken(token) ? hashToken(token) : null;
    const found = hash
      ? await resolutions.resolve(hash, async () => {
          const row = (await store.findTokenByHash(db, hash))[0];
          if (!row) return undefined;
          // A token never holds more than its client holds now: narrowing the client narrows its live tokens.
          const current = new Set(JSON.parse(row.client_scopes) as string[]);
          return { row, scopes: new Set((JSON.parse(row.scopes) as string[]).filter((s) => current.has(s))) };
        }, (value) => value !== undefined)
      : undefined;
    if (!found) throw unauthenticated('UNAUTHENTICATED', 'The token is not valid. Request a new one with POST /api/v1/oauth2/token.');
    const { row } = found;
    const now = clock.now();
    if (row.revoked_at !== null) throw unauthenticated('TOKEN_REVOKED', 'This token was revoked (its client was deactivated or its secret rotated). Request a new one.');
    if (row.client_status !== 'active') throw unauthenticated('CLIENT_INACTIVE', 'This client is deactivated; ask a tenant administrator to reactivate it.');
    if (row.tenant_status !== 'active') throw forbidden('TENANT_SUSPENDED', 'This tenant is suspended by the provider. Contact your provider to resume it.');
    if (row.client_expires_at !== null && row.client_expires_at <= now) throw unauthenticated('CLIENT_EXPIRED', 'This client has expired; ask a tenant administrator to extend it.');
    if (row.expires_at <= now) throw unauthenticated('TOKEN_EXPIRED', 'This token has expired. Request a new one with POST /api/v1/oauth2/token.');
    if (!isAddressAllowed(row.network_policy, ip)) {
      throw forbidden('NETWORK_NOT_ALLOWED', `Your address ${ip ?? 'unknown'} is outside your tenant's network allowlist. Connect from an allowed network, or ask a tenant administrator.`);
    }
    if (!clientAllows(row.allowed_cidrs, ip)) throw forbidden('CLIENT_NETWORK_NOT_ALLOWED', `Your address ${ip ?? 'unknown'} is outside this client's allowed ranges.`);
    const actor: Actor = { kind: 'client', tenantId: row.tenant_id, id: row.client_id, ip };
    grants.set(actor, found.scopes);
    return actor;
  }

  /** A client holds exactly its token's scopes (within its client's current scopes); any other actor holds nothing here. */
  function hasPermission(actor: Actor, permission: string): boolean {
    return actor.kind === 'client' && (grants.get(actor)?.has(permission) ?? false);
  }

  return { requestToken, authenticate, hasPermission };
}
export type ClientTokens = ReturnType<typeof createClientTokens>;
