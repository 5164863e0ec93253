import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/main/config.js';
import { openRuntime } from '../src/main/runtime.js';
import { createSiemForwarder } from '../src/features/siem/siem-forwarder.js';
import { createSiemMetrics } from '../src/features/siem/siem-metrics.js';
import { createDeliverRound } from '../src/features/siem/siem-transport.js';
import { createTargetGuard } from '../src/platform/net/target-guard.js';
import { createLogger } from '../src/platform/log.js';
import { startRsyslog } from '../test/support/rsyslog.js';
import { findCursor, headSeq } from '../src/features/siem/siem.store.js';

/** The budget: events forwarded per second to rsyslog over TCP. */
export const SIEM_BUDGET_EVENTS_PER_SEC = 20_000;

/**
 * Forwards `events` audit events of one tenant (SQLite) to a real rsyslogd over TCP (RFC 5424, octet counting) and
 * counts the lines rsyslog wrote: the figure is events per second from the forwarder's start until the last line.
 */
export async function benchSiem(options: { events?: number } = {}): Promise<{ lines: string[]; figures: Record<string, number> }> {
  const total = options.events ?? 100_000;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'custos-bench-siem-'));
  const log = createLogger({ level: 'silent' });
  const runtime = await openRuntime(loadConfig({ dataDir }, { CUSTOS_ROOT_KEY: randomBytes(32).toString('base64') }), { migrate: true, log });
  const rsyslog = await startRsyslog();
  try {
    const operator = { kind: 'operator' as const, id: 'bench', ip: null };
    const { tenant } = await runtime.services.tenants.create(operator, { slug: 'bench-siem', adminEmail: 'admin@bench.example' });
    const actor = { kind: 'user' as const, id: 'bench-user', tenantId: tenant.id, ip: '192.0.2.1' };
    for (let done = 0; done < total; done += 1_000) {
      await runtime.database.db.transaction().execute(async (trx) => {
        for (let i = 0; i < 1_000 && done + i < total; i += 1) await runtime.audit.append(trx, tenant.id, { action: 'focal_point.created', actor, target: { type: 'focal_point', id: `fp-${done + i}` }, details: { name: `Contact ${done + i}`, topics: ['security-incident'] } });
      });
    }
    const { destination } = await runtime.services.siem.create(actor, { name: 'bench', host: '127.0.0.1', port: rsyslog.tcpPort, transport: 'tcp', format: 'rfc5424', categories: ['config'], startAt: 'beginning' });
    const expected = total + 1;
    const forwarder = createSiemForwarder({ db: runtime.database.db, audit: runtime.audit, keyring: runtime.keyring, clock: runtime.clock, log, metrics: createSiemMetrics(), deliver: createDeliverRound(createTargetGuard({ allowCidrs: ['127.0.0.0/8'] })), pollMs: 50 });
    const started = process.hrtime.bigint();
    forwarder.start();
    const deadline = Date.now() + 120_000;
    const head = await headSeq(runtime.database.db, tenant.id);
    let confirmedSeconds = 0;
    while (rsyslog.lineCount('tcp') < expected) {
      if (!confirmedSeconds && (await findCursor(runtime.database.db, tenant.id, destination.id))!.last_seq >= head) confirmedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (Date.now() > deadline) throw new Error(`rsyslog wrote ${rsyslog.lineCount('tcp')} of ${expected} lines within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await forwarder.stop();
    const perSec = Math.round(expected / seconds);
    const verdict = perSec >= SIEM_BUDGET_EVENTS_PER_SEC ? 'PASS' : 'FAIL';
    return {
      lines: [`siem: forwarded ${expected} events to rsyslog over tcp (rfc5424, octet counting) in ${seconds.toFixed(2)} s (all confirmed after ${(confirmedSeconds || seconds).toFixed(2)} s): ${perSec} events/s (budget >= ${SIEM_BUDGET_EVENTS_PER_SEC}) ${verdict}`],
      figures: { siemEventsPerSec: perSec, siemEvents: expected, siemSeconds: Number(seconds.toFixed(3)), siemConfirmedSeconds: Number((confirmedSeconds || seconds).toFixed(3)) },
    };
  } finally {
    await rsyslog.close();
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { lines } = await benchSiem();
  for (const line of lines) console.log(line);
}
