// Durable jobs: a leased queue in the database, workers that run it, leader election and leader-only schedules.
export { createJobQueue, type JobQueue, type EnqueueResult } from './queue.js';
export { createJobWorker, type JobWorker, type JobHandler, type JobContext } from './worker.js';
export { createLeaderElector, leaderLockKey, type LeaderElector, type LeadershipListener } from './leader.js';
export { createScheduler, type Scheduler, type Schedule } from './scheduler.js';
export { defaultBackoff, retryDelayMs, type BackoffPolicy } from './backoff.js';
export type { Job, JobStatus, Lease, ClaimedJob, EnqueueInput } from './job.types.js';
export type { JobFilter } from './jobs.store.js';
