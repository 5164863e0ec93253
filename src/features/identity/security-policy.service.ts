import type { Actor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import { invalid } from '../../platform/errors.js';
import { mergedPolicyRules, type SecurityPolicy } from './security-policy.js';
import { readSecurityPolicy, writeSecurityPolicy } from './security-policy.store.js';

/** The tenant's security policy: read it, change it (validated as a whole, audited field by field). */
export function createSecurityPolicyService(deps: { db: Db; audit: AuditLog; clock: Clock }) {
  const { db, audit, clock } = deps;

  /** The effective policy of the caller's tenant. */
  async function get(actor: Actor): Promise<SecurityPolicy> {
    return readSecurityPolicy(db, actor.tenantId!);
  }

  /** Merges the given fields over the current policy; new sessions and passwords follow it from now on. */
  async function update(actor: Actor, patch: Partial<SecurityPolicy>): Promise<SecurityPolicy> {
    const tenantId = actor.tenantId!;
    return db.transaction().execute(async (trx) => {
      const before = await readSecurityPolicy(trx, tenantId);
      const merged = mergedPolicyRules.safeParse({ ...before, ...patch });
      if (!merged.success) {
        throw invalid('VALIDATION_FAILED', `The policy is invalid: ${merged.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      }
      const after = merged.data;
      const changed = (Object.keys(after) as (keyof SecurityPolicy)[]).filter((key) => after[key] !== before[key]);
      if (changed.length === 0) return after;
      await writeSecurityPolicy(trx, tenantId, after, clock.now());
      await audit.append(trx, tenantId, {
        action: 'settings.security.updated',
        actor,
        target: { type: 'settings', id: 'security' },
        details: { fields: changed, values: changed.map((key) => `${key}=${String(after[key])}`) },
      });
      return after;
    });
  }

  return { get, update };
}
export type SecurityPolicyService = ReturnType<typeof createSecurityPolicyService>;
