import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { DbOrTx } from '../../platform/db/database.js';
import type { Signals } from '../../platform/signals/signals.js';
import * as activations from './activation.store.js';
import * as sessions from './sessions.store.js';
import * as users from './users.store.js';

/** Work another feature does when a user is deactivated (cancel their requests, release checkouts...), in the same transaction. */
export type DeactivationStep = (trx: DbOrTx, actor: Actor, tenantId: string, userId: string) => Promise<Record<string, number>>;

/**
 * The one deactivation path (PATCH status=inactive, DELETE, SCIM, the inactivity job): in the caller's
 * transaction it marks the user inactive, revokes every session, voids pending activation tokens, runs the
 * steps later features register, audits each, and publishes the user.deactivated signal (delivered to every node
 * at commit) for what lives outside the database: live SSH sessions, console sockets. The next request with any of
 * the user's tokens fails.
 */
export function createDeactivation(deps: { audit: AuditLog; clock: Clock; signals: Pick<Signals, 'publish'>; steps?: DeactivationStep[] }) {
  return async function deactivate(trx: DbOrTx, actor: Actor, tenantId: string, userId: string, reason: string) {
    const now = deps.clock.now();
    await users.updateUser(trx, tenantId, userId, { status: 'inactive', deactivation_reason: reason }, now);
    const revoked = await sessions.revokeSessions(trx, tenantId, now, `user_${reason}`, userId);
    await activations.voidActivationTokens(trx, tenantId, userId, now);
    const target = { type: 'user', id: userId };
    await deps.audit.append(trx, tenantId, { action: 'auth.sessions.revoked', actor, target, details: { reason: `user_${reason}`, count: revoked } });
    const effects: Record<string, number> = { sessionsRevoked: revoked };
    for (const step of deps.steps ?? []) Object.assign(effects, await step(trx, actor, tenantId, userId));
    await deps.audit.append(trx, tenantId, { action: 'user.deactivated', actor, target, details: { reason, ...effects } });
    await deps.signals.publish(trx, { kind: 'user.deactivated', tenantId, subject: target });
    return effects;
  };
}
export type Deactivate = ReturnType<typeof createDeactivation>;
