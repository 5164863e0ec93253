import type { Actor } from '../../platform/actor.js';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import { generateToken, hashToken } from '../../platform/crypto/tokens.js';
import { notFound, unauthenticated } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import * as store from './operators.store.js';

/** Operator bearer tokens start with this prefix, so a leaked one is recognisable in a scan. */
export const OPERATOR_TOKEN_PREFIX = 'cso_';

/** Operator bearer tokens for /ops/v1: created from the CLI, stored hashed, audited in the system chain. */
export function createOperatorService(deps: { db: Db; audit: AuditLog; clock: Clock }) {
  /** Creates a token and returns it once; only its hash is kept. */
  async function createToken(actor: Actor, name = 'operator') {
    const token = generateToken(OPERATOR_TOKEN_PREFIX);
    const id = newId(deps.clock.now());
    await deps.db.transaction().execute(async (trx) => {
      await store.insertOperatorToken(trx, { id, name, token_hash: hashToken(token), created_at: deps.clock.now(), last_used_at: null, revoked_at: null });
      await deps.audit.append(trx, SYSTEM_SCOPE, { action: 'operator.token.created', actor, target: { type: 'operator_token', id }, details: { name } });
    });
    return { id, name, token };
  }

  /** Resolves a presented token to the operator actor, or refuses it. */
  async function authenticate(token: string, ip: string | null): Promise<Actor> {
    const row = token.startsWith(OPERATOR_TOKEN_PREFIX) ? await store.findLiveOperatorToken(deps.db, hashToken(token)) : undefined;
    if (!row) throw unauthenticated('UNAUTHENTICATED', 'The operator token is unknown or revoked. Create one with: custos operator token create');
    const now = deps.clock.now();
    if (!row.last_used_at || now - row.last_used_at > 60_000) await store.touchOperatorToken(deps.db, row.id, now);
    return { kind: 'operator', id: row.id, ip };
  }

  /** Every token's metadata (never the token). */
  async function list() {
    return store.listOperatorTokens(deps.db);
  }

  /** Revokes a token; its next request is refused. */
  async function revoke(actor: Actor, id: string) {
    await deps.db.transaction().execute(async (trx) => {
      if (!(await store.revokeOperatorToken(trx, id, deps.clock.now()))) throw notFound('OPERATOR_TOKEN_NOT_FOUND', `No live operator token ${id}.`);
      await deps.audit.append(trx, SYSTEM_SCOPE, { action: 'operator.token.revoked', actor, target: { type: 'operator_token', id } });
    });
  }

  return { createToken, authenticate, list, revoke };
}
export type OperatorService = ReturnType<typeof createOperatorService>;
