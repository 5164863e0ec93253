import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import type { Db } from '../../platform/db/database.js';
import type { JobHandler, JobQueue, Schedule } from '../../platform/jobs/index.js';
import type { Logger } from '../../platform/log.js';
import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import { createRotationEngine, type RotationDialer, type RotationEngine } from './rotation.engine.js';
import { ROTATION_JOB, type RotationService } from './rotation.service.js';
import { createHeartbeat } from './rotation.heartbeat.js';
import * as store from './rotation.store.js';

const payload = z.object({ tenantId: z.string(), rotationId: z.string() });
/** How long a rotation waiting for its device's slot waits before it asks again. */
const BUSY_DELAY_MS = 2_000;

/** Every five minutes the leader schedules flagged and overdue credentials (inside their rotation windows). */
export const rotationSchedules: Schedule[] = [
  { name: 'rotation.sweep', cron: '0 */5 * * * *', kind: 'rotation.sweep', maxAttempts: 1 },
  // Every ten minutes the heartbeat checks the stored secrets checked longest ago.
  { name: 'rotation.heartbeat', cron: '0 */10 * * * *', kind: 'rotation.heartbeat', maxAttempts: 1 },
];

/** A retry the queue records with backoff; the message is the rotation's stored error code. */
class RetryLater extends Error {}

/**
 * The rotation job (one attempt of one rotation; a retryable failure throws so the queue retries with backoff) and
 * the sweep. A rotation waiting for its device's concurrency slot gets a fresh job shortly instead of a spent attempt.
 */
export function rotationJobHandlers(deps: { engine: RotationEngine; rotations: RotationService; queue: Pick<JobQueue, 'enqueue'>; db: Db; audit: AuditLog; clock: Clock; log: Logger }): Record<string, JobHandler> {
  const { engine, queue, db, clock } = deps;
  return {
    [ROTATION_JOB]: async (job, ctx) => {
      const { tenantId, rotationId } = payload.parse(job.payload);
      const outcome = await engine.run(tenantId, rotationId, { finalAttempt: ctx.attempt >= job.maxAttempts });
      if (outcome.busy) {
        const { job: next } = await queue.enqueue({ kind: ROTATION_JOB, tenantId, payload: job.payload, maxAttempts: job.maxAttempts, runAt: clock.now() + BUSY_DELAY_MS });
        await store.updateRotation(db, tenantId, rotationId, { job_id: next.id, updated_at: clock.now() }, ['scheduled']);
        return;
      }
      if (outcome.retry) {
        const row = await store.findRotation(db, tenantId, rotationId);
        throw new RetryLater(row?.error_code ?? 'ROTATION_RETRY');
      }
      // A rotation that left the target taking neither secret is reset at once when a reconciliation credential is set.
      if (outcome.state === 'failed') {
        const row = await store.findRotation(db, tenantId, rotationId);
        if (row?.error_code === 'ROTATION_OUT_OF_SYNC' && row.trigger !== 'reconcile') await deps.rotations.reconcileOutOfSync(tenantId, row.credential_id);
      }
    },
    'rotation.sweep': async () => {
      const scheduled = await deps.rotations.sweep();
      if (scheduled > 0) deps.log.info({ scheduled }, 'rotation sweep scheduled rotations');
    },
    'rotation.heartbeat': async () => {
      const counts = await createHeartbeat({ db, audit: deps.audit, clock, engine, reconcile: deps.rotations.reconcileOutOfSync }).beat();
      if (counts.outOfSync > 0) deps.log.warn(counts, 'heartbeat found credentials out of sync');
    },
  };
}

/**
 * At start-up: settles every rotation left running or holding a pending secret whose job no live worker holds
 * (its lease expired or its job is gone), and gives a job to any that still needs one. Answers how many it settled.
 */
export async function recoverRotations(deps: { engine: RotationEngine; queue: Pick<JobQueue, 'enqueue'>; db: Db; clock: Clock; log: Logger }): Promise<number> {
  const { db, clock } = deps;
  let settled = 0;
  for (const row of await store.unsettledRotations(db, 1_000)) {
    const job = row.job_id ? await db.selectFrom('jobs').select(['status', 'lease_expires_at']).where('id', '=', row.job_id).executeTakeFirst() : undefined;
    if (job?.status === 'running' && (job.lease_expires_at ?? 0) > clock.now()) continue;
    try {
      const outcome = await deps.engine.settle(row.tenant_id, row.id);
      settled += 1;
      if (outcome.state === 'scheduled' && job?.status !== 'queued' && job?.status !== 'running') {
        const { job: next } = await deps.queue.enqueue({ kind: ROTATION_JOB, tenantId: row.tenant_id, payload: { tenantId: row.tenant_id, rotationId: row.id } });
        await store.updateRotation(db, row.tenant_id, row.id, { job_id: next.id, updated_at: clock.now() }, ['scheduled']);
      }
    } catch (error) {
      deps.log.warn({ rotationId: row.id, err: (error as Error).message }, 'could not settle an interrupted rotation; its job will');
    }
  }
  return settled;
}

/** Until the guarded dialer (src/platform/net/dial.ts) is wired, every target is refused: never an unguarded connection. */
export const refusingDialer: RotationDialer = async () => {
  throw Object.assign(new Error('No target guard is wired on this node, so no target may be dialled.'), { code: 'TARGET_REFUSED' });
};

/** The engine, its job handlers and its start-up recovery, as background work wires them on every node. */
export function rotationBackground(deps: { db: Db; audit: AuditLog; clock: Clock; keyring: Keyring; queue: Pick<JobQueue, 'enqueue'>; log: Logger; rotations: RotationService; dial?: RotationDialer; deviceConcurrency?: number; crashAt?: string }) {
  const log = deps.log.child({ component: 'rotation' });
  const engine = createRotationEngine({ db: deps.db, audit: deps.audit, clock: deps.clock, keyring: deps.keyring, dial: deps.dial ?? refusingDialer, deviceConcurrency: deps.deviceConcurrency, crashAt: deps.crashAt });
  return {
    engine,
    handlers: rotationJobHandlers({ engine, rotations: deps.rotations, queue: deps.queue, db: deps.db, audit: deps.audit, clock: deps.clock, log }),
    /** Settles interrupted rotations; errors are logged, never thrown (the jobs settle what this misses). */
    recover: () => recoverRotations({ engine, queue: deps.queue, db: deps.db, clock: deps.clock, log }).catch((error: unknown) => {
      log.error({ err: (error as Error).message }, 'could not settle interrupted rotations at start-up');
      return 0;
    }),
  };
}
