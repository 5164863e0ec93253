import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { rsyslogMissing, startRsyslog, type Rsyslog } from '../../../test/support/rsyslog.js';
import { apiCall } from '../../../test/support/users.js';
import { waitFor } from '../../platform/jobs/fixtures/wait.js';
import { createLogger } from '../../platform/log.js';
import { createSiemForwarder, type SiemForwarder } from './siem-forwarder.js';
import { destinationHealth } from './siem-health.js';
import { createSiemMetrics } from './siem-metrics.js';
import { webhookSignature } from './siem-transport.js';
import { loopbackDeliver } from '../../../test/support/siem-deliver.js';

const missing = rsyslogMissing();
const hostile = 'a\nb\r\nc|d=e\\f]g"h\ti\u2028j ünïcødé 🔑 [x@1 seq="999"] cn1=999\n<13>1 2026-01-01T00:00:00Z forged custos - auth.login.succeeded - forged';

describe.skipIf(missing !== null).each(dialects)('SIEM forwarding to a real rsyslog on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let rsyslog: Rsyslog;
  let forwarder: SiemForwarder;
  const metrics = createSiemMetrics();
  beforeAll(async () => {
    [t, rsyslog] = await Promise.all([createTestApp(dialect, { targetAllowCidrs: ['127.0.0.0/8'] }), startRsyslog()]);
    admin = await t.tenantWithAdmin(`siem-fwd-${dialect}`);
    forwarder = createSiemForwarder({ db: t.runtime.database.db, audit: t.runtime.audit, keyring: t.runtime.keyring, clock: t.clock, log: createLogger({ level: 'silent' }), metrics, deliver: loopbackDeliver, backoff: { baseMs: 1, maxMs: 1 } });
  }, 60_000);
  afterAll(async () => {
    await forwarder?.stop();
    await Promise.all([t?.close(), rsyslog?.close()]);
  });

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) => apiCall(t, method, url, admin.token, payload);
  async function create(body: object) {
    const res = await call('POST', '/siem/destinations', body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().destination.id as string;
  }
  /** Appends events with hostile details as the system would, answering their seqs. */
  async function appendEvents(n: number, details: Record<string, string> = { name: hostile }) {
    const seqs: number[] = [];
    await t.runtime.database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < n; i += 1) seqs.push((await t.runtime.audit.append(trx, admin.id, { action: 'focal_point.created', actor: { kind: 'user', id: `actor ${hostile}`, ip: '192.0.2.9' }, target: { type: 'focal_point', id: `t${i}` }, details })).seq);
    });
    return seqs;
  }
  const status = async (id: string) => (await call('GET', `/siem/destinations/${id}/status`)).json();
  /** Polls the forwarder until the destination has no lag (or failed). */
  async function forward(id: string) {
    for (let i = 0; i < 50; i += 1) {
      await forwarder.drainOnce();
      const s = await status(id);
      if (s.lagEvents === 0 || s.state === 'failing') return s;
    }
    throw new Error('the forwarder did not catch up');
  }
  const seqOf = (sd: string) => Number(/ seq="(\d+)"/.exec(sd)?.[1]);

  it('rfc5424 over tcp: rsyslog parses app-name, msgid and structured data; hostile values forge no line or field', async () => {
    const id = await create({ name: 'rsyslog tcp', host: '127.0.0.1', port: rsyslog.tcpPort, transport: 'tcp', format: 'rfc5424', categories: ['config'] });
    const seqs = await appendEvents(20);
    const s = await forward(id);
    expect(s).toMatchObject({ state: 'idle', lagEvents: 0, lastError: null });
    expect(s.lastDeliveredAt).not.toBeNull();
    await waitFor(() => rsyslog.lineCount('tcp') >= 21, 5_000, 'rsyslog wrote the events');
    const lines = rsyslog.received('tcp');
    // The destination's own created event (category config) comes first, then the 20 appended ones, nothing else.
    expect(lines).toHaveLength(21);
    expect(lines.map((l) => l.msgid)).toEqual(['siem.destination.created', ...seqs.map(() => 'focal_point.created')]);
    expect(lines.every((l) => l.app === 'custos')).toBe(true);
    expect(lines.slice(1).map((l) => seqOf(l.sd))).toEqual(seqs);
    for (const line of lines.slice(1)) {
      expect(line.sd.match(/\[custos@32473 /g)).toHaveLength(1);
      // One SD-ELEMENT: the only unescaped "]" is the last character; the hostile "[x@1 ...]" stayed inside a value.
      expect(line.sd.match(/(?<!\\)\]/g)).toHaveLength(1);
      expect(line.sd.endsWith('"]')).toBe(true);
      expect(line.sd).toContain('[x@1 seq=\\"999\\"\\]');
      expect(line.sd).toContain('action="focal_point.created"');
      expect(line.sd).toContain('actorIp="192.0.2.9"');
      expect(line.msg).toContain('ünïcødé 🔑');
    }
    // Later tests count this port's lines: this destination stops here.
    await call('PATCH', `/siem/destinations/${id}`, { enabled: false });
  });

  it('a delivered round moves only the cursor: the change marker stays, so the token and permission caches stay warm', async () => {
    const id = await create({ name: 'marker', host: '127.0.0.1', port: rsyslog.tcpPort, transport: 'tcp', format: 'json', categories: ['config'] });
    await forward(id);
    await appendEvents(3);
    const before = t.runtime.database.changeMarker();
    await forwarder.drainOnce();
    expect(t.runtime.database.changeMarker()).toBe(before);
    expect((await status(id)).lagEvents).toBe(0);
    await call('PATCH', `/siem/destinations/${id}`, { enabled: false });
  });

  it('cef, leef and json over tcp: rsyslog hands over the body intact, seq in its field, one line per event', async () => {
    for (const format of ['cef', 'leef', 'json'] as const) {
      const before = rsyslog.lineCount('tcp');
      const id = await create({ name: `rsyslog ${format}`, host: '127.0.0.1', port: rsyslog.tcpPort, transport: 'tcp', format, categories: ['config'], minSeverity: 4, startAt: 'now' });
      const seqs = await appendEvents(5);
      await forward(id);
      // Other destinations of the same tenant also write to this port: look at this format's lines only.
      await waitFor(() => rsyslog.lineCount('tcp') >= before + 6, 5_000, `rsyslog wrote the ${format} events`);
      const lines = rsyslog.received('tcp').slice(before);
      const mine = lines.filter((l) => l.msg.startsWith({ cef: 'CEF:0|', leef: 'LEEF:2.0|', json: '{' }[format]) && l.msgid === 'focal_point.created');
      const seqRead = { cef: (m: string) => Number(/ cn1=(\d+) cn1Label=seq/.exec(m)![1]), leef: (m: string) => Number(/\tseq=(\d+)\t/.exec(m)![1]), json: (m: string) => JSON.parse(m).seq as number }[format];
      expect(mine.map((l) => seqRead(l.msg)).slice(-5), format).toEqual(seqs);
      if (format === 'json') expect(JSON.parse(mine.at(-1)!.msg).details.name).toBe(hostile);
      if (format === 'cef') expect(mine.at(-1)!.msg).toMatch(/^CEF:0\|Custos\|Custos\|1\.0\|4101\|focal_point\.created\|4\|rt=\d+ cn1=/);
      await call('PATCH', `/siem/destinations/${id}`, { enabled: false });
    }
  });

  it('newline framing (for receivers without octet counting) delivers one event per line to rsyslog', async () => {
    const before = rsyslog.lineCount('tcp');
    const id = await create({ name: 'rsyslog newline', host: '127.0.0.1', port: rsyslog.tcpPort, transport: 'tcp', format: 'rfc5424', framing: 'newline', categories: ['config'] });
    const seqs = await appendEvents(4);
    expect(await forward(id)).toMatchObject({ state: 'idle', lagEvents: 0 });
    await waitFor(() => rsyslog.received('tcp').some((l) => seqOf(l.sd) === seqs[3]), 5_000, 'rsyslog wrote the newline-framed events');
    const lines = rsyslog.received('tcp').slice(before).filter((l) => seqs.includes(seqOf(l.sd)));
    expect(lines.map((l) => seqOf(l.sd))).toEqual(seqs);
    expect(lines.every((l) => l.app === 'custos' && l.msgid === 'focal_point.created')).toBe(true);
    await call('PATCH', `/siem/destinations/${id}`, { enabled: false });
  });

  it('a round carries at most 4 MiB: 600 events of 10 KB take several confirmed rounds and all arrive in order', async () => {
    const before = rsyslog.lineCount('tcp');
    const id = await create({ name: 'rsyslog long', host: '127.0.0.1', port: rsyslog.tcpPort, transport: 'tcp', format: 'json', categories: ['config'] });
    await forward(id);
    const start = (await status(id)).lastDeliveredSeq;
    const seqs = await appendEvents(600, { name: 'z'.repeat(10_000) });
    await forwarder.drainOnce();
    const partial = (await status(id)).lastDeliveredSeq;
    expect(partial).toBeGreaterThan(start);
    expect(partial).toBeLessThan(seqs[599]!);
    expect(await forward(id)).toMatchObject({ state: 'idle', lagEvents: 0 });
    await waitFor(() => rsyslog.lineCount('tcp') >= before + 601, 10_000, 'rsyslog wrote the long events');
    const mine = rsyslog.received('tcp').slice(before).map((l) => JSON.parse(l.msg)).filter((m) => seqs.includes(m.seq));
    expect(mine.map((m) => m.seq)).toEqual(seqs);
    expect(mine.every((m) => m.details.name.length === 10_000)).toBe(true);
    await call('PATCH', `/siem/destinations/${id}`, { enabled: false });
  });

  it('udp: a message over maxMessageBytes arrives cut and marked truncated="true"; short ones arrive whole', async () => {
    const id = await create({ name: 'rsyslog udp', host: '127.0.0.1', port: rsyslog.udpPort, transport: 'udp', format: 'rfc5424', maxMessageBytes: 1024, categories: ['config'] });
    const [longSeq] = await appendEvents(1, { name: 'y'.repeat(10_000) });
    const [shortSeq] = await appendEvents(1, { name: 'short' });
    await forward(id);
    await waitFor(() => rsyslog.lineCount('udp') >= 3, 5_000, 'rsyslog wrote the datagrams');
    const lines = rsyslog.received('udp');
    const long = lines.find((l) => seqOf(l.sd) === longSeq)!;
    expect(long.sd).toContain('truncated="true"');
    expect(long.msg.length).toBeLessThan(1024);
    const short = lines.find((l) => seqOf(l.sd) === shortSeq)!;
    expect(short.sd).not.toContain('truncated');
    expect(short.msg).toContain('"name":"short"');
  });

  it('tls with the CA pinned delivers; a wrong CA fails with a clear lastError, one failing event, and recovers when fixed', async () => {
    const good = await create({ name: 'rsyslog tls', host: '127.0.0.1', port: rsyslog.tlsPort, transport: 'tls', format: 'rfc5424', categories: ['config'], tls: { caPem: rsyslog.certificates.caPem, clientCertPem: rsyslog.certificates.clientCertPem, clientKeyPem: rsyslog.certificates.clientKeyPem } });
    const seqs = await appendEvents(3);
    expect(await forward(good)).toMatchObject({ state: 'idle', lagEvents: 0 });
    await waitFor(() => rsyslog.received('tls').some((l) => seqOf(l.sd) === seqs[2]), 5_000, 'rsyslog wrote the tls events');
    expect(rsyslog.received('tls').map((l) => seqOf(l.sd)).filter((s) => seqs.includes(s))).toEqual(seqs);

    const bad = await create({ name: 'rsyslog tls wrong CA', host: '127.0.0.1', port: rsyslog.tlsPort, transport: 'tls', format: 'rfc5424', categories: ['config'], tls: { caPem: rsyslog.certificates.otherCaPem } });
    await appendEvents(2);
    for (let i = 0; i < 3; i += 1) await forward(bad);
    const failing = await status(bad);
    expect(failing.state).toBe('failing');
    expect(failing.lastError).toMatch(/certificate/i);
    expect(failing.lastErrorAt).not.toBeNull();
    const outageEvents = () => t.runtime.database.db.selectFrom('audit_events').select('action').where('tenant_id', '=', admin.id).where('target_id', '=', bad).where('action', 'like', 'siem.delivery.%').orderBy('seq').execute();
    expect((await outageEvents()).map((e) => e.action)).toEqual(['siem.delivery.failing']);
    const health = async () => (await destinationHealth(t.runtime.database.db, admin.id)).find((d) => d.id === bad);
    expect(await health()).toMatchObject({ name: 'rsyslog tls wrong CA', healthy: false, lastError: expect.stringMatching(/certificate/i) });

    expect((await call('PATCH', `/siem/destinations/${bad}`, { tls: { caPem: rsyslog.certificates.caPem } })).statusCode).toBe(200);
    expect(await forward(bad)).toMatchObject({ state: 'idle', lagEvents: 0 });
    expect((await outageEvents()).map((e) => e.action)).toEqual(['siem.delivery.failing', 'siem.delivery.recovered']);
    expect(await health()).toMatchObject({ healthy: true, lastError: null, lagEvents: expect.any(Number) });
    // The failing event reached the receiver after the recovery, like every other event.
    await waitFor(() => rsyslog.received('tls').some((l) => l.msgid === 'siem.delivery.failing'), 5_000, 'the failing event was forwarded');
  });

  it('a receiver that requires a client certificate refuses a destination without one and accepts the configured one; a wrong server name is refused', async () => {
    const base = { host: '127.0.0.1', port: rsyslog.mtlsPort, transport: 'tls', format: 'rfc5424', enabled: false };
    const anonymous = await create({ ...base, name: 'mtls anonymous', tls: { caPem: rsyslog.certificates.caPem } });
    expect((await call('POST', `/siem/destinations/${anonymous}/test`)).json()).toMatchObject({ delivered: false });
    const withCert = await create({ ...base, name: 'mtls client cert', tls: { caPem: rsyslog.certificates.caPem, clientCertPem: rsyslog.certificates.clientCertPem, clientKeyPem: rsyslog.certificates.clientKeyPem } });
    expect((await call('POST', `/siem/destinations/${withCert}/test`)).json()).toEqual({ delivered: true, confirmed: true, error: null });
    const wrongName = await create({ ...base, port: rsyslog.tlsPort, name: 'tls wrong name', tls: { caPem: rsyslog.certificates.caPem, serverName: 'siem.elsewhere.example' } });
    expect((await call('POST', `/siem/destinations/${wrongName}/test`)).json()).toMatchObject({ delivered: false, error: expect.stringMatching(/ALTNAME|does not match/i) });
    const rightName = await create({ ...base, port: rsyslog.tlsPort, name: 'tls right name', tls: { caPem: rsyslog.certificates.caPem, serverName: 'localhost' } });
    expect((await call('POST', `/siem/destinations/${rightName}/test`)).json()).toMatchObject({ delivered: true, confirmed: true });
  });

  it('POST /test sends seq 0 now and answers confirmed for tcp, and delivered-unconfirmed for udp', async () => {
    const tcp = await create({ name: 'test tcp', host: '127.0.0.1', port: rsyslog.tcpPort, transport: 'tcp', format: 'rfc5424', enabled: false });
    expect((await call('POST', `/siem/destinations/${tcp}/test`)).json()).toEqual({ delivered: true, confirmed: true, error: null });
    await waitFor(() => rsyslog.received('tcp').some((l) => l.msgid === 'siem.destination.tested' && seqOf(l.sd) === 0), 5_000, 'the test event arrived');
    const udp = await create({ name: 'test udp', host: '127.0.0.1', port: rsyslog.udpPort, transport: 'udp', format: 'cef', enabled: false });
    expect((await call('POST', `/siem/destinations/${udp}/test`)).json()).toEqual({ delivered: true, confirmed: false, error: null });
  });

  it('counts delivered events in bounded metrics (transport, format, outcome; no tenant label)', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/custos_siem_events_total\{transport="tcp",format="rfc5424",outcome="delivered"\} [1-9]/);
    expect(text).toMatch(/custos_siem_rounds_total\{transport="tls",outcome="failure"\} [1-9]/);
    expect(text).not.toContain(admin.id);
  });

  it('an https webhook receives the events as JSON lines with a valid HMAC-SHA256 signature and timestamp', async () => {
    const dir = rsyslog.certificates.dir;
    const bodies: Array<{ body: string; signature: string; timestamp: string }> = [];
    let answer = 503;
    const server = https.createServer({ cert: readFileSync(path.join(dir, 'server.pem')), key: readFileSync(path.join(dir, 'server.key')) }, (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push({ body, signature: String(req.headers['x-custos-signature']), timestamp: String(req.headers['x-custos-timestamp']) });
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const res = await call('POST', '/siem/destinations', { name: 'webhook', transport: 'https', url: `https://127.0.0.1:${port}/events`, format: 'json', categories: ['config'], tls: { caPem: rsyslog.certificates.caPem } });
      expect(res.statusCode, res.body).toBe(201);
      const { destination, secret } = res.json();
      const seqs = await appendEvents(3);
      expect((await forward(destination.id)).state).toBe('failing');
      expect((await status(destination.id)).lastError).toContain('HTTP 503');
      answer = 204;
      expect(await forward(destination.id)).toMatchObject({ state: 'idle', lagEvents: 0 });
      const last = bodies.at(-1)!;
      expect(last.signature).toBe(webhookSignature(secret, Number(last.timestamp), last.body));
      const received = bodies.slice(1).flatMap((b) => b.body.split('\n').filter(Boolean).map((l) => JSON.parse(l)));
      expect(received.map((e) => e.seq)).toEqual(expect.arrayContaining(seqs));
      expect(received.find((e) => e.seq === seqs[0]).details.name).toBe(hostile);
    } finally {
      server.close();
    }
  });
});
