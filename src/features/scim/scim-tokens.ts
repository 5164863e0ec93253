import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import { isUniqueViolation, type Db } from '../../platform/db/database.js';
import { generateToken, hashToken } from '../../platform/crypto/tokens.js';
import { conflict, forbidden, notFound, unauthenticated } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { isAddressAllowed } from '../identity/network-policy.js';
import { iso } from './scim-protocol.js';
import * as store from './scim.store.js';

/** SCIM tokens start with this prefix: the /api/v1 and /ops/v1 planes refuse them by it, without a query. */
export const SCIM_TOKEN_PREFIX = 'csp_';
// last_used_at is a hint for administrators: written at most once a minute, so a provisioning burst stays reads.
const TOUCH_INTERVAL_MS = 60_000;

const badToken = () => unauthenticated('UNAUTHENTICATED', 'The SCIM token is not valid (or was replaced or revoked). Create one with POST /api/v1/settings/scim/token and enter it in your identity provider.');

/** The tenant's SCIM token: created (replacing any other) and revoked by administrators, checked on every SCIM request. */
export function createScimTokens(deps: { db: Db; audit: AuditLog; clock: Clock; baseUrl: string; assertHoldsEverything: (actor: Actor, doing: string) => Promise<void> }) {
  const { db, audit, clock } = deps;

  /** Creates the tenant's token, answered this once; the previous token stops working in the same commit. */
  async function create(actor: Actor) {
    const tenantId = actor.tenantId!;
    // The directory can provision anyone into any group: only a caller holding every permission may connect one.
    await deps.assertHoldsEverything(actor, 'connect a SCIM directory');
    const token = generateToken(SCIM_TOKEN_PREFIX);
    const now = clock.now();
    const id = newId(now);
    await db.transaction().execute(async (trx) => {
      const previous = await store.findToken(trx, tenantId);
      await store.replaceToken(trx, { tenant_id: tenantId, id, token_hash: hashToken(token), created_by: actor.id, created_at: now, last_used_at: null }).catch((error) => {
        // Two administrators creating a token at the same moment: one tenant, one token (a unique index); the later one retries.
        throw isUniqueViolation(error) ? conflict('SCIM_TOKEN_CONFLICT', 'Another SCIM token was created at the same moment; try again.') : error;
      });
      await audit.append(trx, tenantId, { action: 'scim.token.created', actor, target: { type: 'scim_token', id }, details: { tokenId: id, replacedTokenId: previous?.id ?? null } });
    });
    return { token, createdAt: iso(now) };
  }

  /** Whether a token exists, when it was made and last used, and where the identity provider sends requests. */
  async function status(actor: Actor) {
    const row = await store.findToken(db, actor.tenantId!);
    return { configured: Boolean(row), createdAt: row ? iso(row.created_at) : null, lastUsedAt: row?.last_used_at ? iso(row.last_used_at) : null, endpoint: deps.baseUrl };
  }

  /** Revokes the token: the identity provider's next request is refused. */
  async function revoke(actor: Actor) {
    const tenantId = actor.tenantId!;
    await db.transaction().execute(async (trx) => {
      const row = await store.findToken(trx, tenantId);
      if (!row || !(await store.deleteToken(trx, tenantId))) throw notFound('SCIM_TOKEN_NOT_FOUND', 'This tenant has no SCIM token; create one with POST /api/v1/settings/scim/token.');
      await audit.append(trx, tenantId, { action: 'scim.token.revoked', actor, target: { type: 'scim_token', id: row.id }, details: { tokenId: row.id } });
    });
  }

  /** Resolves a SCIM token on every request: a replaced or revoked token, a suspended tenant or a refused address fail at once. */
  async function authenticate(token: string, ip: string | null): Promise<Actor> {
    const row = token.startsWith(SCIM_TOKEN_PREFIX) ? await store.findTokenByHash(db, hashToken(token)) : undefined;
    if (!row) throw badToken();
    if (row.tenant_status !== 'active') throw forbidden('TENANT_SUSPENDED', 'This tenant is suspended by the provider; provisioning resumes when it is resumed.');
    if (!isAddressAllowed(row.network_policy, ip)) {
      throw forbidden('NETWORK_NOT_ALLOWED', `Your address ${ip ?? 'unknown'} is outside the tenant's network allowlist; add the identity provider's addresses to it.`);
    }
    const now = clock.now();
    if (row.last_used_at === null || now - row.last_used_at >= TOUCH_INTERVAL_MS) await store.touchToken(db, row.tenant_id, row.id, now);
    return { kind: 'scim', tenantId: row.tenant_id, id: row.id, ip };
  }

  return { create, status, revoke, authenticate };
}
export type ScimTokens = ReturnType<typeof createScimTokens>;
