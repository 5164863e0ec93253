import { loopbackDeliver } from '../../../test/support/siem-deliver.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { createLogger } from '../../platform/log.js';
import { createSiemMetrics } from './siem-metrics.js';
import { startSiemForwarding } from './siem.jobs.js';

describe('SIEM forwarding follows leadership', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite', { targetAllowCidrs: ['127.0.0.0/8'] });
  });
  afterAll(async () => t.close());

  it('runs only while this node leads: starts on gaining leadership, stops on losing it, and stop() ends it', async () => {
    let leading = false;
    const listeners: Array<(isLeader: boolean) => void> = [];
    const leader = { isLeader: () => leading, onChange: (listener: (isLeader: boolean) => void) => void listeners.push(listener) };
    const siem = startSiemForwarding({ leader, db: t.runtime.database.db, audit: t.runtime.audit, keyring: t.runtime.keyring, clock: t.clock, log: createLogger({ level: 'silent' }), metrics: createSiemMetrics(), deliver: loopbackDeliver });
    expect(siem.forwarder.isRunning()).toBe(false);
    leading = true;
    listeners.forEach((listener) => listener(true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(siem.forwarder.isRunning()).toBe(true);
    leading = false;
    listeners.forEach((listener) => listener(false));
    expect(siem.forwarder.isRunning()).toBe(false);
    listeners.forEach((listener) => listener(true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(siem.forwarder.isRunning()).toBe(true);
    await siem.stop();
    expect(siem.forwarder.isRunning()).toBe(false);
  });
});
