import type { Db, DbOrTx, DialectName } from '../db/database.js';
import type { Clock } from '../clock.js';
import { invalid } from '../errors.js';
import { newId } from '../ids.js';
import { defaultBackoff, retryDelayMs, type BackoffPolicy } from './backoff.js';
import { createJobsStore, type JobFilter } from './jobs.store.js';
import { toJob, type ClaimedJob, type EnqueueInput, type Job, type Lease } from './job.types.js';

/** Stored errors are for people reading job state, not for dumping payloads: keep them short. */
const maxErrorLength = 2_000;

/** What enqueue did: created is false when the unique key already named a job, which is returned instead. */
export interface EnqueueResult {
  job: Job;
  created: boolean;
}

/**
 * The durable job queue: at-least-once delivery with leases. Every write after a claim is fenced by the
 * lease, so a worker that lost its job (lease expired and re-claimed, or cancelled) can never overwrite it.
 */
export function createJobQueue(deps: {
  db: Db;
  dialect: DialectName;
  clock: Clock;
  backoff?: BackoffPolicy;
  random?: () => number;
}) {
  const { db, clock } = deps;
  const store = createJobsStore({ dialect: deps.dialect });
  const backoff = deps.backoff ?? defaultBackoff;
  const random = deps.random ?? Math.random;

  return {
    /**
     * Adds a job, inside the caller's transaction when one is given so the job exists only if its cause
     * commits. With a uniqueKey already taken, nothing is added and the existing job is returned.
     */
    async enqueue(input: EnqueueInput, executor: DbOrTx = db): Promise<EnqueueResult> {
      const maxAttempts = input.maxAttempts ?? 5;
      if (!input.kind) throw invalid('JOB_KIND_REQUIRED', 'A job needs a kind');
      if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw invalid('JOB_MAX_ATTEMPTS', 'maxAttempts must be a positive integer');
      const now = clock.now();
      const row = {
        id: newId(now),
        tenant_id: input.tenantId ?? null,
        kind: input.kind,
        payload: JSON.stringify(input.payload ?? {}),
        status: 'queued' as const,
        attempts: 0,
        max_attempts: maxAttempts,
        run_at: input.runAt ?? now,
        lease_owner: null,
        lease_expires_at: null,
        last_error: null,
        unique_key: input.uniqueKey ?? null,
        created_at: now,
        updated_at: now,
        finished_at: null,
      };
      if (await store.insert(executor, row)) return { job: toJob(row), created: true };
      const existing = await store.findByUniqueKey(executor, input.uniqueKey!);
      // Only reachable if the holder of the key was deleted between our insert and this read.
      if (!existing) throw new Error(`job with unique key ${input.uniqueKey} vanished during enqueue`);
      return { job: toJob(existing), created: false };
    },

    /** Claims the oldest due job for owner for leaseMs, or answers null when nothing is due. */
    async claim(owner: string, leaseMs: number): Promise<ClaimedJob | null> {
      const now = clock.now();
      await store.failExhaustedLeases(db, now);
      const row = await store.claim(db, owner, now, leaseMs);
      if (!row) return null;
      const job = toJob(row);
      return { ...job, lease: { jobId: job.id, owner, attempt: job.attempts } };
    },

    /** Extends the lease while this claim still holds it; false means the job was lost and should stop. */
    async heartbeat(lease: Lease, leaseMs: number): Promise<boolean> {
      return store.extendLease(db, lease, clock.now(), leaseMs);
    },

    /** Marks the job succeeded; false means the lease was lost and the result is not recorded. */
    async complete(lease: Lease): Promise<boolean> {
      return store.succeed(db, lease, clock.now());
    },

    /**
     * Records a failure: requeued after exponential backoff while attempts remain, otherwise failed for good
     * (at once when permanent). Answers the job's new state, or null when the lease was lost.
     */
    async fail(lease: Lease, error: string, options: { permanent?: boolean } = {}): Promise<Job | null> {
      const now = clock.now();
      const current = await store.findById(db, lease.jobId);
      if (!current) return null;
      const exhausted = options.permanent === true || lease.attempt >= current.max_attempts;
      const retryAt = exhausted ? null : now + retryDelayMs(lease.attempt, backoff, random);
      const row = await store.recordFailure(db, lease, error.slice(0, maxErrorLength), now, retryAt);
      return row ? toJob(row) : null;
    },

    /** Cancels a queued or running job (scoped to tenantId when given); false when it had already finished. */
    async cancel(id: string, tenantId?: string | null): Promise<boolean> {
      return store.cancel(db, id, clock.now(), tenantId);
    },

    /** One job's visible state, scoped to tenantId when given. */
    async get(id: string, tenantId?: string | null, executor: DbOrTx = db): Promise<Job | null> {
      const row = await store.findById(executor, id, tenantId);
      return row ? toJob(row) : null;
    },

    /** Jobs newest first, filtered by tenant, kind and status. */
    async list(filter: JobFilter = {}, executor: DbOrTx = db): Promise<Job[]> {
      return (await store.list(executor, filter)).map(toJob);
    },
  };
}

/** The queue every feature enqueues into and every worker claims from. */
export type JobQueue = ReturnType<typeof createJobQueue>;
