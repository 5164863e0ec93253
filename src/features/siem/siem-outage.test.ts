import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { rsyslogMissing, startRsyslog, type Rsyslog } from '../../../test/support/rsyslog.js';
import { apiCall } from '../../../test/support/users.js';
import { waitFor } from '../../platform/jobs/fixtures/wait.js';
import { createLogger } from '../../platform/log.js';
import { createSiemForwarder } from './siem-forwarder.js';
import { createSiemMetrics } from './siem-metrics.js';
import { loopbackDeliver } from '../../../test/support/siem-deliver.js';

const missing = rsyslogMissing();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// About 50 s per engine: events stream for 40 s, the receiver is down for 30 s of them.
describe.skipIf(missing !== null).each(dialects)('SIEM forwarding through a receiver outage on %s', (dialect) => {
  let t: TestApp;
  let rsyslog: Rsyslog;
  beforeAll(async () => {
    [t, rsyslog] = await Promise.all([createTestApp(dialect, { targetAllowCidrs: ['127.0.0.0/8'] }), startRsyslog()]);
  }, 60_000);
  afterAll(async () => Promise.all([t?.close(), rsyslog?.close()]));

  it('2000 events streamed over 40 s while rsyslog is stopped for 30 s and the forwarder restarts: every event arrives, in order once duplicates are dropped', async () => {
    const admin = await t.tenantWithAdmin(`siem-outage-${dialect}`);
    const res = await apiCall(t, 'POST', '/siem/destinations', admin.token, { name: 'outage', host: '127.0.0.1', port: rsyslog.tcpPort, transport: 'tcp', format: 'rfc5424', categories: ['config'] });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().destination.id as string;
    const forwarderDeps = { db: t.runtime.database.db, audit: t.runtime.audit, keyring: t.runtime.keyring, clock: t.clock, log: createLogger({ level: 'silent' }), metrics: createSiemMetrics(), deliver: loopbackDeliver, pollMs: 200, backoff: { baseMs: 250, maxMs: 2_000 } };
    let forwarder = createSiemForwarder(forwarderDeps);
    forwarder.start();
    const seqs: number[] = [];
    const started = Date.now();
    const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
    let outage: { stoppedAt: number; startedAt: number } | null = null;
    const receiver = (async () => {
      await at(5_000);
      await rsyslog.stop();
      const stoppedAt = Date.now();
      await at(35_000);
      await rsyslog.start();
      outage = { stoppedAt, startedAt: Date.now() };
    })();
    for (let tick = 0; tick < 400; tick += 1) {
      await at(tick * 100);
      await t.runtime.database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 5; i += 1) seqs.push((await t.runtime.audit.append(trx, admin.id, { action: 'focal_point.created', actor: { kind: 'user', id: 'streamer' }, details: { name: `event ${tick}.${i}` } })).seq);
      });
      // A server restart in the middle of the outage: the cursor is in the database, nothing is held in memory.
      if (tick === 200) {
        await forwarder.stop();
        forwarder = createSiemForwarder(forwarderDeps);
        forwarder.start();
      }
    }
    await receiver;
    expect(outage!.startedAt - outage!.stoppedAt).toBeGreaterThanOrEqual(29_000);
    const status = async () => (await apiCall(t, 'GET', `/siem/destinations/${id}/status`, admin.token)).json();
    await waitFor(async () => (await status()).lagEvents === 0, 30_000, 'the forwarder caught up');
    await forwarder.stop();
    const last = seqs[seqs.length - 1]!;
    await waitFor(() => rsyslog.received('tcp').some((l) => l.sd.includes(` seq="${last}" `)), 10_000, 'rsyslog wrote the last event');
    const received = rsyslog.received('tcp').filter((l) => l.msgid === 'focal_point.created').map((l) => Number(/ seq="(\d+)"/.exec(l.sd)![1]));
    const firstSeen: number[] = [];
    const seen = new Set<number>();
    for (const seq of received) {
      if (seen.has(seq)) continue;
      seen.add(seq);
      firstSeen.push(seq);
    }
    expect(seqs).toHaveLength(2000);
    expect(firstSeen).toEqual(seqs);
    const outageEvents = await t.runtime.database.db.selectFrom('audit_events').select('action').where('tenant_id', '=', admin.id).where('action', 'like', 'siem.delivery.%').orderBy('seq').execute();
    expect(outageEvents.map((e) => e.action)).toEqual(['siem.delivery.failing', 'siem.delivery.recovered']);
    expect((await status()).state).toBe('idle');
  }, 120_000);
});
