import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import { conflict } from '../../platform/errors.js';
import { isAddressAllowed } from './network-policy.js';
import { readNetworkPolicy, writeNetworkPolicy } from './network-policy.store.js';

/** The tenant's network allowlist: enforced at login, at activation and on every request of the tenant. */
export function createNetworkPolicyService(deps: { db: Db; audit: AuditLog; clock: Clock }) {
  const { db, audit, clock } = deps;

  /** The allowed ranges (empty: every address). */
  async function get(actor: Actor) {
    const stored = await readNetworkPolicy(db, actor.tenantId!);
    return { allowedCidrs: stored ? (JSON.parse(stored) as { allowedCidrs: string[] }).allowedCidrs : [] };
  }

  /** Replaces the allowlist; refuses one that would cut off the caller's own address unless forced. */
  async function update(actor: Actor, input: { allowedCidrs: string[]; force?: boolean }) {
    const allowedCidrs = [...new Set(input.allowedCidrs)];
    const proposed = JSON.stringify({ allowedCidrs });
    if (!input.force && !isAddressAllowed(proposed, actor.ip ?? null)) {
      throw conflict('ALLOWLIST_EXCLUDES_YOU', `Your address ${actor.ip ?? 'unknown'} is outside this list, so saving it would cut you off. Add your range, or send "force": true.`);
    }
    await db.transaction().execute(async (trx) => {
      await writeNetworkPolicy(trx, actor.tenantId!, allowedCidrs, clock.now());
      await audit.append(trx, actor.tenantId!, { action: 'settings.network.updated', actor, target: { type: 'settings', id: 'network' }, details: { allowedCidrs, forced: Boolean(input.force) } });
    });
    return { allowedCidrs };
  }

  return { get, update };
}
export type NetworkPolicyService = ReturnType<typeof createNetworkPolicyService>;
