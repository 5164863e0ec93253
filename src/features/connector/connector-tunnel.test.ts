import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { createNetns, makeServerCertificate, startConnector, startEchoServer, type ConnectorProcess } from '../../../test/support/connector.js';
import { dialects } from '../../../test/support/databases.js';
import { apiCall } from '../../../test/support/users.js';
import { createLogger } from '../../platform/log.js';
import { createTargetDialer } from '../../platform/net/dial.js';
import { attachConnectorEndpoint, CONNECT_PATH } from './connector-endpoint.js';
import { createConnectorService } from './connectors.service.js';

/** Writes data through a duplex and answers what came back once as many bytes arrived. */
function roundTrip(stream: Duplex, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    stream.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= data.length) resolve(Buffer.concat(chunks));
    });
    stream.on('error', reject);
    stream.write(data);
  });
}

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`condition not met in time; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Child processes start slowly on a loaded machine: each test gets 90 s.
describe.each(dialects)('connector tunnels on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let url: string;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;
  const children: ConnectorProcess[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('tun-a');
    url = await t.app.listen({ port: 0, host: '127.0.0.1' });
    echo = await startEchoServer();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
  });
  afterAll(async () => {
    await echo.close();
    await t.close();
  });

  const tunnels = () => t.runtime.services.connectors.tunnels;
  const create = async (name: string, site: string) => (await apiCall(t, 'POST', '/connectors', admin.token, { name, site })).json() as { connector: { id: string }; token: string };
  const statusOf = async (id: string) => (await apiCall(t, 'GET', `/connectors/${id}`, admin.token)).json().connector.status as string;
  const run = (args: string[], options?: { prefix?: string[]; env?: Record<string, string> }) => {
    const child = startConnector(args, options);
    children.push(child);
    return child;
  };
  /** A second hub on its own server over the same database, with short timings (the shipped ones are too slow for a test). */
  const quickHub = async (timings: { keepaliveIntervalMs?: number; keepaliveCountMax?: number; heartbeatMs?: number }) => {
    const quick = createConnectorService({ db: t.runtime.database.db, audit: t.runtime.audit, clock: t.clock, log: createLogger({ level: 'silent' }), ...timings });
    const server = createHttpServer();
    attachConnectorEndpoint(server, { connectors: quick, log: createLogger({ level: 'silent' }) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const close = async () => {
      quick.closeAll();
      await quick.recorded();
      await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    };
    return { quick, quickUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close };
  };
  const events = async (id: string) => {
    await t.runtime.services.connectors.recorded();
    return (await t.runtime.database.db.selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', admin.id).where('target_id', '=', id).orderBy('seq').execute()).map((e) => [e.action, JSON.parse(e.details)]);
  };

  it('data round-trips through a tunnel, several channels at once keep their streams apart, and the connection is audited', async () => {
    const { connector, token } = await create('rt', 'site-rt');
    const agent = run(['--url', url, '--token', token]);
    await agent.connected();
    await waitFor(() => statusOf(connector.id), (s) => s === 'active');
    const payloads = Array.from({ length: 6 }, () => randomBytes(200_000));
    const channels = await Promise.all(payloads.map(() => tunnels().open(admin.id, connector.id, '127.0.0.1', echo.port, 5000)));
    const echoed = await Promise.all(channels.map((channel, i) => roundTrip(channel, payloads[i]!)));
    echoed.forEach((back, i) => expect(back.equals(payloads[i]!)).toBe(true));
    channels.forEach((channel) => channel.destroy());
    const listed = (await apiCall(t, 'GET', '/connectors', admin.token)).json().connectors.find((c: { id: string }) => c.id === connector.id);
    expect(listed).toMatchObject({ status: 'active', connected: true, lastAddress: '127.0.0.1' });
    expect(listed.lastSeenAt).not.toBeNull();
    expect(await events(connector.id)).toContainEqual(['connector.connected', { site: 'site-rt', address: '127.0.0.1', role: 'active' }]);
  });

  it('the target dialer refuses a loopback target dialled directly, but reaches it when the device names a connector', async () => {
    const { connector, token } = await create('guarded', 'site-guarded');
    await run(['--url', url, '--token', token]).connected();
    await waitFor(() => statusOf(connector.id), (s) => s === 'active');
    // As a server without CUSTOS_TARGET_ALLOW_CIDRS dials: loopback is refused to direct connections.
    const dial = createTargetDialer({ allowCidrs: [], tunnels: tunnels() });
    await expect(dial({ tenantId: admin.id, host: '127.0.0.1', port: echo.port })).rejects.toMatchObject({ code: 'TARGET_REFUSED' });
    const channel = await dial({ tenantId: admin.id, host: '127.0.0.1', port: echo.port, connectorId: connector.id }, { timeoutMs: 5000 });
    expect((await roundTrip(channel, Buffer.from('guarded'))).toString()).toBe('guarded');
    channel.destroy();
  });

  it('a port nothing listens on answers TARGET_UNREACHABLE; a site with no connector answers CONNECTOR_OFFLINE', async () => {
    const { connector, token } = await create('unreach', 'site-unreach');
    await expect(tunnels().open(admin.id, connector.id, '127.0.0.1', echo.port, 2000)).rejects.toMatchObject({ code: 'CONNECTOR_OFFLINE' });
    await run(['--url', url, '--token', token]).connected();
    await waitFor(() => statusOf(connector.id), (s) => s === 'active');
    const closed = await startEchoServer();
    await closed.close();
    await expect(tunnels().open(admin.id, connector.id, '127.0.0.1', closed.port, 5000)).rejects.toMatchObject({ code: 'TARGET_UNREACHABLE' });
  });

  it('a connector started with --allow connects only inside those ranges and refuses the rest', async () => {
    const { connector, token } = await create('allow', 'site-allow');
    const agent = run(['--url', url, '--token', token, '--allow', '192.0.2.0/24, 10.0.0.0/8']);
    await agent.connected();
    await waitFor(() => statusOf(connector.id), (s) => s === 'active');
    await expect(tunnels().open(admin.id, connector.id, '127.0.0.1', echo.port, 5000)).rejects.toMatchObject({ code: 'TARGET_UNREACHABLE' });
    await expect(tunnels().open(admin.id, connector.id, 'localhost', echo.port, 5000)).rejects.toMatchObject({ code: 'TARGET_UNREACHABLE' });
    expect(agent.output()).toContain(`refused a connection to 127.0.0.1:${echo.port}: outside --allow`);
  });

  it('a wrong token is refused with 401 before any upgrade, and the connector process exits saying so', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}${CONNECT_PATH}`, { headers: { authorization: 'Bearer cnt_wrongwrongwrong' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
      ws.on('open', () => reject(new Error('upgraded with a wrong token')));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(401);
    const agent = run(['--url', url, '--token', 'cnt_wrongwrongwrong']);
    expect(await agent.exited).toBe(2);
    expect(agent.output()).toContain('CONNECTOR_TOKEN_INVALID');
  });

  it('revoking a connector disconnects it at once: its tunnels stop, it cannot dial in again and its process stops', async () => {
    const { connector, token } = await create('rev', 'site-rev');
    const agent = run(['--url', url, '--token', token]);
    await agent.connected();
    await waitFor(() => statusOf(connector.id), (s) => s === 'active');
    const channel = await tunnels().open(admin.id, connector.id, '127.0.0.1', echo.port, 5000);
    const ended = new Promise((resolve) => channel.on('close', resolve));
    channel.resume();
    expect((await apiCall(t, 'POST', `/connectors/${connector.id}/revoke`, admin.token)).json().connector.status).toBe('revoked');
    await ended;
    await expect(tunnels().open(admin.id, connector.id, '127.0.0.1', echo.port, 2000)).rejects.toMatchObject({ code: 'CONNECTOR_REVOKED' });
    expect(await agent.exited).toBe(2);
    expect(agent.output()).toContain('CONNECTOR_REVOKED');
    const actions = (await events(connector.id)).map(([action, details]) => (action === 'connector.disconnected' ? `${action}:${details.reason}` : action));
    expect(actions).toEqual(['connector.created', 'connector.connected', 'connector.revoked', 'connector.disconnected:revoked']);
  });

  it('two connectors of a site run active/passive; when the active one is killed the passive one takes over within seconds', async () => {
    const first = await create('ha-1', 'site-ha');
    const second = await create('ha-2', 'site-ha');
    const one = run(['--url', url, '--token', first.token]);
    await one.connected();
    await waitFor(() => statusOf(first.connector.id), (s) => s === 'active');
    const two = run(['--url', url, '--token', second.token]);
    await two.connected();
    await waitFor(() => statusOf(second.connector.id), (s) => s === 'passive');
    // Devices name either connector: the site's active one carries the connection.
    const before = await tunnels().open(admin.id, second.connector.id, '127.0.0.1', echo.port, 5000);
    expect((await roundTrip(before, Buffer.from('before'))).toString()).toBe('before');
    const dropped = new Promise((resolve) => before.on('close', resolve));
    await one.kill('SIGKILL');
    await dropped;
    const started = Date.now();
    const after = await waitFor(() => tunnels().open(admin.id, first.connector.id, '127.0.0.1', echo.port, 2000).catch(() => null), (c) => c !== null, 5000);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await roundTrip(after!, Buffer.from('after'))).toString()).toBe('after');
    after!.destroy();
    expect(await statusOf(second.connector.id)).toBe('active');
    expect(await statusOf(first.connector.id)).toBe('offline');
    expect(await events(second.connector.id)).toContainEqual(['connector.failover', { site: 'site-ha', from: first.connector.id, to: second.connector.id }]);
  });

  it('an active connector that stops answering (frozen, its socket still open) is dropped after missed keepalives and the passive one takes over', async () => {
    const { quick, quickUrl, close } = await quickHub({ keepaliveIntervalMs: 300, keepaliveCountMax: 2 });
    try {
      const first = await create('ka-1', 'site-ka');
      const second = await create('ka-2', 'site-ka');
      const one = run(['--url', quickUrl, '--token', first.token]);
      await one.connected();
      await waitFor(async () => quick.tunnels.open(admin.id, first.connector.id, '127.0.0.1', echo.port, 1000).then((c) => (c.destroy(), true), () => false), (ok) => ok);
      await run(['--url', quickUrl, '--token', second.token]).connected();
      one.child.kill('SIGSTOP');
      const channel = await waitFor(() => quick.tunnels.open(admin.id, first.connector.id, '127.0.0.1', echo.port, 500).catch(() => null), (c) => c !== null, 5000);
      expect((await roundTrip(channel!, Buffer.from('via the passive one'))).toString()).toBe('via the passive one');
      channel!.destroy();
      await quick.recorded();
      const disconnected = await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('target_id', '=', first.connector.id).where('action', '=', 'connector.disconnected').orderBy('seq').execute();
      expect(disconnected.map((e) => JSON.parse(e.details).reason)).toEqual(['keepalives unanswered']);
      one.child.kill('SIGCONT');
    } finally {
      await close();
    }
  });

  it('a revocation written by another node reaches this node at the next heartbeat and disconnects the connector', async () => {
    const { quick, quickUrl, close } = await quickHub({ heartbeatMs: 200 });
    try {
      const { connector, token } = await create('hb', 'site-hb');
      const agent = run(['--url', quickUrl, '--token', token]);
      await agent.connected();
      await waitFor(async () => quick.tunnels.open(admin.id, connector.id, '127.0.0.1', echo.port, 1000).then((c) => (c.destroy(), true), () => false), (ok) => ok);
      await t.runtime.database.db.updateTable('connectors').set({ revoked_at: t.clock.now() }).where('tenant_id', '=', admin.id).where('id', '=', connector.id).execute();
      expect(await agent.exited).toBe(2);
      await quick.recorded();
      const reasons = (await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('target_id', '=', connector.id).where('action', '=', 'connector.disconnected').orderBy('seq').execute()).map((e) => JSON.parse(e.details).reason);
      expect(reasons).toEqual(['revoked or tenant suspended']);
    } finally {
      await close();
    }
  });

  it('over TLS the connector trusts the CA given with --ca and refuses a certificate it does not chain to', async () => {
    const certs = makeServerCertificate();
    const server = createHttpsServer({ cert: certs.certPem, key: certs.keyPem });
    attachConnectorEndpoint(server, { connectors: t.runtime.services.connectors, log: createLogger({ level: 'silent' }) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const tlsUrl = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const { connector, token } = await create('tls', 'site-tls');
      const untrusted = run(['--url', tlsUrl, '--token', token, '--ca', certs.otherCaFile]);
      await waitFor(async () => untrusted.output(), (out) => /certificate|self.signed|verify/i.test(out));
      await untrusted.kill();
      expect(await statusOf(connector.id)).toBe('offline');
      // The token from the environment this time: it stays out of the process list.
      await run(['--url', tlsUrl, '--ca', certs.caFile], { env: { CUSTOS_CONNECTOR_TOKEN: token } }).connected();
      await waitFor(() => statusOf(connector.id), (s) => s === 'active');
      const channel = await tunnels().open(admin.id, connector.id, '127.0.0.1', echo.port, 5000);
      expect((await roundTrip(channel, Buffer.from('over tls'))).toString()).toBe('over tls');
      channel.destroy();
    } finally {
      await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a connector in its own network namespace reaches a target there that the vault itself cannot reach', async (context) => {
    const netns = createNetns();
    if (!netns) {
      console.warn('network namespaces are not available here (needs root and iproute2): the namespace connector test is SKIPPED.');
      context.skip();
      return;
    }
    const certs = makeServerCertificate(netns.hostIp);
    const server = createHttpsServer({ cert: certs.certPem, key: certs.keyPem });
    attachConnectorEndpoint(server, { connectors: t.runtime.services.connectors, log: createLogger({ level: 'silent' }) });
    const target = spawn(netns.exec[0]!, [...netns.exec.slice(1), process.execPath, '-e', "require('net').createServer((s) => s.pipe(s)).listen(0, '127.0.0.1', function () { console.log(this.address().port) })"], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => server.listen(0, netns.hostIp, resolve));
      const port = await new Promise<number>((resolve) => target.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
      // The target listens on the namespace's own loopback: from here that address and port lead nowhere.
      const direct = await new Promise<string>((resolve) => connect(port, '127.0.0.1').on('connect', () => resolve('connected')).on('error', (e: NodeJS.ErrnoException) => resolve(e.code!)));
      expect(direct).not.toBe('connected');
      const { connector, token } = await create('netns', 'site-netns');
      await run(['--url', `https://${netns.hostIp}:${(server.address() as { port: number }).port}`, '--token', token, '--ca', certs.caFile], { prefix: netns.exec }).connected();
      await waitFor(() => statusOf(connector.id), (s) => s === 'active');
      const channel = await tunnels().open(admin.id, connector.id, '127.0.0.1', port, 5000);
      const data = randomBytes(100_000);
      expect((await roundTrip(channel, data)).equals(data)).toBe(true);
      channel.destroy();
    } finally {
      await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
      target.kill('SIGKILL');
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      netns.remove();
    }
  });
}, 90_000);
