import type { AuditLog } from '../../platform/audit/audit-log.js';
import type { Clock } from '../../platform/clock.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db } from '../../platform/db/database.js';
import type { Logger } from '../../platform/log.js';
import { createSiemForwarder } from './siem-forwarder.js';
import type { SiemMetrics } from './siem-metrics.js';
import type { Deliver } from './siem-transport.js';

/**
 * Runs the SIEM forwarder while this node leads (one forwarder per installation, so rounds of a destination never
 * overlap); losing leadership stops it after the rounds in flight, which saved their cursors.
 */
export function startSiemForwarding(deps: { leader: { isLeader(): boolean; onChange(listener: (isLeader: boolean) => void): void }; db: Db; audit: AuditLog; keyring: Keyring; clock: Clock; log: Logger; metrics: SiemMetrics; deliver: Deliver }) {
  const forwarder = createSiemForwarder(deps);
  let stopping: Promise<void> = Promise.resolve();
  const follow = (isLeader: boolean) => {
    if (isLeader) void stopping.then(() => forwarder.start());
    else stopping = forwarder.stop();
  };
  deps.leader.onChange(follow);
  follow(deps.leader.isLeader());
  return {
    forwarder,
    /** Stops forwarding and waits for the rounds in flight. */
    async stop(): Promise<void> {
      await stopping;
      await forwarder.stop();
    },
  };
}
