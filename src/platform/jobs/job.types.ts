import type { JobTable } from '../db/schema.js';

/** Where a job stands; only 'queued' and 'running' can still change. */
export type JobStatus = JobTable['status'];

/** A job as callers see it: its payload parsed, times in epoch milliseconds. */
export interface Job {
  id: string;
  tenantId: string | null;
  kind: string;
  payload: unknown;
  status: JobStatus;
  /** How many times the job has been claimed, including the current run. */
  attempts: number;
  maxAttempts: number;
  runAt: number;
  leaseOwner: string | null;
  leaseExpiresAt: number | null;
  lastError: string | null;
  uniqueKey: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

/** Proof of one claim: the owner and the attempt number together fence every later write. */
export interface Lease {
  jobId: string;
  owner: string;
  attempt: number;
}

/** A job just claimed, with the lease its worker must present to heartbeat, complete or fail it. */
export interface ClaimedJob extends Job {
  lease: Lease;
}

/** What a caller asks for; the job runs at runAt or later, at most maxAttempts times. */
export interface EnqueueInput {
  kind: string;
  payload?: unknown;
  tenantId?: string | null;
  runAt?: number;
  maxAttempts?: number;
  /** A second enqueue with the same key returns the first job instead of adding one. */
  uniqueKey?: string;
}

/** Maps a stored row to the shape callers use; the one place payload JSON is parsed. */
export function toJob(row: JobTable): Job {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    payload: JSON.parse(row.payload) as unknown,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    leaseOwner: row.lease_owner,
    leaseExpiresAt: row.lease_expires_at,
    lastError: row.last_error,
    uniqueKey: row.unique_key,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}
