import { systemActor } from '../../platform/actor.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import type { CredentialHeartbeatTable } from '../../platform/db/schema.rotation.js';
import * as devices from '../vault/devices.store.js';
import { pluginFor, rotationPlugins } from './plugins/index.js';
import type { RotationEngine } from './rotation.engine.js';
import { classifyFailure } from './rotation.errors.js';
import * as store from './rotation.store.js';

/**
 * The heartbeat: checks that each rotatable credential's stored secret still logs in to its target, least recently
 * checked first. A secret the target refuses marks the credential out of sync (recorded once per change, with the
 * credential.out_of_sync event) and, when it names a reconciliation credential, schedules a reset with it; an
 * unreachable target is recorded as such and says nothing about the secret.
 */
export function createHeartbeat(deps: {
  db: Db;
  audit: AuditLog;
  clock: Clock;
  engine: Pick<RotationEngine, 'verifyStored'>;
  /** Schedules a reset of a credential found out of sync (when it names a reconciliation credential); answers whether it did. */
  reconcile?: (tenantId: string, credentialId: string) => Promise<boolean>;
  plugins?: typeof rotationPlugins;
}) {
  const { db, audit, clock, engine } = deps;
  const plugins = deps.plugins ?? rotationPlugins;

  async function record(tenantId: string, credentialId: string, status: CredentialHeartbeatTable['status'], errorCode: string | null): Promise<void> {
    const now = clock.now();
    await db.transaction().execute(async (trx) => {
      const before = await store.recordHeartbeat(trx, tenantId, credentialId, { status, errorCode, now });
      if (status === 'out_of_sync' && before !== 'out_of_sync') {
        await audit.append(trx, tenantId, { action: 'credential.out_of_sync', actor: systemActor, outcome: 'failure', target: { type: 'credential', id: credentialId }, details: { detectedBy: 'heartbeat' } });
      }
    });
  }

  /** Checks up to `limit` credentials; answers how many were ok, out of sync (and how many of those are being reset) and unreachable. */
  async function beat(options: { limit?: number } = {}) {
    const limit = options.limit ?? 100;
    const counts = { ok: 0, outOfSync: 0, unreachable: 0, reconciling: 0 };
    const candidates = await db.selectFrom('credentials as c')
      .leftJoin('credential_heartbeats as h', (j) => j.onRef('h.tenant_id', '=', 'c.tenant_id').onRef('h.credential_id', '=', 'c.id'))
      .select(['c.tenant_id', 'c.id', 'c.device_id', 'c.type', 'h.checked_at'])
      .where('c.secret_sealed', 'is not', null).where('c.status', '=', 'active')
      .orderBy('h.checked_at').orderBy('c.id').limit(limit * 4).execute();
    // Never checked first, then the longest unchecked (NULL sorts differently on the two engines).
    candidates.sort((a, b) => (a.checked_at ?? -1) - (b.checked_at ?? -1));
    let checked = 0;
    for (const c of candidates) {
      if (checked >= limit) break;
      const device = await devices.findDevice(db, c.tenant_id, c.device_id);
      if (!device || !pluginFor(device.protocol, c.type, plugins)) continue;
      // A rotation in flight changes the secret under the check: its own settling decides.
      if (await store.activeRotationOf(db, c.tenant_id, c.id)) continue;
      checked += 1;
      try {
        const ok = await engine.verifyStored(c.tenant_id, c.id);
        await record(c.tenant_id, c.id, ok ? 'ok' : 'out_of_sync', null);
        if (ok) counts.ok += 1;
        else {
          counts.outOfSync += 1;
          if (deps.reconcile && (await deps.reconcile(c.tenant_id, c.id))) counts.reconciling += 1;
        }
      } catch (error) {
        await record(c.tenant_id, c.id, 'unreachable', classifyFailure(error, []).code);
        counts.unreachable += 1;
      }
    }
    return counts;
  }

  /** The last heartbeat of a credential, or null when it was never checked. */
  async function statusOf(tenantId: string, credentialId: string) {
    const row = await db.selectFrom('credential_heartbeats').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).executeTakeFirst();
    return row ? { status: row.status, errorCode: row.error_code, checkedAt: new Date(row.checked_at).toISOString(), changedAt: new Date(row.changed_at).toISOString() } : null;
  }

  return { beat, statusOf };
}

/** The heartbeat of stored secrets. */
export type Heartbeat = ReturnType<typeof createHeartbeat>;
