import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { createJobQueue, createJobWorker, createLeaderElector, createScheduler } from '../platform/jobs/index.js';
import { identityJobHandlers, identitySchedules } from '../features/identity/identity.jobs.js';
import { custodyJobHandlers, custodySchedules } from '../features/vault/custody.jobs.js';
import { accessRequestJobHandlers, accessRequestSchedules } from '../features/access/access-requests.jobs.js';
import { notificationJobHandlers } from '../features/notifications/notifications.jobs.js';
import { complianceJobHandlers, complianceSchedules } from '../features/compliance/compliance.jobs.js';
import { startBehaviourLoop } from '../features/behaviour/behaviour.jobs.js';
import { startConnectivityLoop } from '../features/connectivity/connectivity.jobs.js';
import { startSiemForwarding } from '../features/siem/siem.jobs.js';
import { auditJobHandlers, auditSchedules } from '../features/audit/audit.jobs.js';
import { rotationBackground, rotationSchedules } from '../features/rotation/rotation.jobs.js';
import { snapshotJobHandlers, snapshotSchedules } from '../features/snapshots/snapshots.jobs.js';
import type { Runtime } from './runtime.js';

/** Starts this node's job worker, its leader election and the leader-only schedules; stop() drains them. */
export async function startBackgroundWork(runtime: Runtime) {
  const { database, clock, log, config } = runtime;
  const queue = createJobQueue({ db: database.db, dialect: database.dialect, clock });
  // Rotations run on every node's worker and reach targets only through the guarded dialer.
  const rotation = rotationBackground({ db: database.db, audit: runtime.audit, clock, keyring: runtime.keyring, queue, log, rotations: runtime.services.rotations, dial: runtime.services.dialer, deviceConcurrency: config.rotationDeviceConcurrency, crashAt: config.rotationCrashAt });
  const worker = createJobWorker({
    queue,
    handlers: { ...identityJobHandlers({ db: database.db, clock, log, deactivate: runtime.services.deactivate }), ...custodyJobHandlers({ custody: runtime.services.custody, log }), ...accessRequestJobHandlers({ lifecycle: runtime.services.requestLifecycle, log }), ...notificationJobHandlers({ smtp: runtime.services.smtp, log }), ...auditJobHandlers({ checkpoints: runtime.services.auditCheckpoints, log }), ...complianceJobHandlers({ compliance: runtime.services.compliance, log }), ...snapshotJobHandlers({ snapshots: runtime.services.snapshots, keep: config.snapshotKeep, log }), ...rotation.handlers },
    owner: `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    log,
    clock,
  });
  const leader = createLeaderElector({ dialect: database.dialect, postgresUrl: config.databaseUrl, log });
  const scheduler = createScheduler({ leader, queue, schedules: [...identitySchedules, ...custodySchedules, ...accessRequestSchedules, ...complianceSchedules, ...auditSchedules, ...rotationSchedules, ...snapshotSchedules(config.snapshotSchedule)], clock, log });
  await leader.start();
  scheduler.start();
  worker.start();
  // Rotations a crash left running are settled before their jobs would (those wait for the old lease to expire).
  void rotation.recover();
  // Leader-only: scores new logins, reveals and checkouts of every tenant a few seconds after they happen.
  const behaviour = startBehaviourLoop({ leader, consumer: runtime.services.behaviourConsumer, log });
  // Leader-only: checks the devices due a connectivity check (each tenant's interval, default 3 minutes).
  const connectivity = startConnectivityLoop({ leader, connectivity: runtime.services.connectivity, log });
  const siem = startSiemForwarding({ leader, db: database.db, audit: runtime.audit, keyring: runtime.keyring, clock, log, metrics: runtime.services.siem.metrics, deliver: runtime.services.siemDeliver });
  // Signals from other nodes and CLI processes (deactivations, suspensions) reach this node's subscribers.
  await runtime.signals.start();
  return {
    queue,
    leader,
    scheduler,
    async stop() {
      scheduler.stop();
      await behaviour.stop();
      await connectivity.stop();
      await siem.stop();
      await runtime.signals.stop();
      await worker.stop(10_000);
      await leader.stop();
    },
  };
}
