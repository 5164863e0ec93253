import net from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetDialer, type Lookup } from './dial.js';

let server: net.Server;
let port: number;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  // Accepts and never speaks: enough to prove a connection opened, and where it went.
  server = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const answers = (...addresses: string[]): Lookup => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
const tenant = 't1';

describe('target dialer', () => {
  it('refuses a name whose answers include loopback even when a public address comes first (rebinding)', async () => {
    const dial = createTargetDialer({ allowCidrs: [], lookup: answers('93.184.216.34', '127.0.0.1') });
    await expect(dial({ tenantId: tenant, host: 'rebind.example', port })).rejects.toMatchObject({ code: 'TARGET_REFUSED', message: expect.stringContaining('127.0.0.1 (loopback)') });
  });

  it('refuses loopback, IPv4-mapped loopback and the metadata address given as literals', async () => {
    const dial = createTargetDialer({ allowCidrs: [] });
    for (const host of ['127.0.0.1', '::ffff:127.0.0.1', '[::1]', '169.254.169.254']) {
      await expect(dial({ tenantId: tenant, host, port })).rejects.toMatchObject({ code: 'TARGET_REFUSED' });
    }
  });

  it('connects to the checked address, not to the name again', async () => {
    let lookups = 0;
    const lookup: Lookup = async () => {
      lookups += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const dial = createTargetDialer({ allowCidrs: ['127.0.0.0/8'], lookup });
    const socket = (await dial({ tenantId: tenant, host: 'db.internal', port })) as net.Socket;
    expect(socket.remoteAddress).toBe('127.0.0.1');
    expect(lookups).toBe(1);
    socket.destroy();
  });

  it('connects to an allow-listed loopback literal without resolving it, IPv4-mapped ones as plain IPv4', async () => {
    const dial = createTargetDialer({ allowCidrs: ['127.0.0.0/8'], lookup: () => Promise.reject(new Error('must not resolve a literal')) });
    for (const host of ['127.0.0.1', '::ffff:127.0.0.1', '[::ffff:7f00:1]']) {
      const socket = (await dial({ tenantId: tenant, host, port })) as net.Socket;
      expect(socket.remoteAddress).toBe('127.0.0.1');
      socket.destroy();
    }
  });

  it('answers TARGET_UNREACHABLE for a closed port and a name that does not resolve', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const dial = createTargetDialer({ allowCidrs: ['127.0.0.0/8'], lookup: async () => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' })) });
    await expect(dial({ tenantId: tenant, host: '127.0.0.1', port: closedPort })).rejects.toMatchObject({ code: 'TARGET_UNREACHABLE' });
    await expect(dial({ tenantId: tenant, host: 'missing.invalid', port })).rejects.toMatchObject({ code: 'TARGET_UNREACHABLE', message: expect.stringContaining('ENOTFOUND') });
  });

  it('answers TARGET_TIMEOUT when resolving takes longer than the timeout', async () => {
    const dial = createTargetDialer({ allowCidrs: ['127.0.0.0/8'], lookup: () => new Promise(() => undefined) });
    const started = Date.now();
    await expect(dial({ tenantId: tenant, host: 'slow.example', port }, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'TARGET_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('sends connector-reached devices through the tunnels without the guard', async () => {
    const opened: unknown[] = [];
    const stream = new PassThrough();
    const dial = createTargetDialer({ allowCidrs: [], tunnels: { open: async (...args) => (opened.push(args), stream) } });
    expect(await dial({ tenantId: tenant, host: '127.0.0.1', port: 22, connectorId: 'c1' }, { timeoutMs: 500 })).toBe(stream);
    expect(opened).toEqual([[tenant, 'c1', '127.0.0.1', 22, 500]]);
    await expect(createTargetDialer({ allowCidrs: [] })({ tenantId: tenant, host: 'x', port: 1, connectorId: 'c1' })).rejects.toMatchObject({ code: 'TARGET_UNREACHABLE' });
  });
});
