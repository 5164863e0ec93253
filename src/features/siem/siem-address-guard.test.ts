import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetGuard } from '../../platform/net/target-guard.js';
import { createDeliverRound, type SiemTarget } from './siem-transport.js';

const target = (transport: SiemTarget['transport'], host: string, port: number): SiemTarget => ({
  transport, host: transport === 'https' ? null : host, port: transport === 'https' ? null : port, url: transport === 'https' ? `https://${host}:${port}/hook` : null, tls: null, secret: 'hook-secret',
});

describe('SIEM receivers pass the target guard', () => {
  let receiver: net.Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    receiver = net.createServer((socket) => {
      connections += 1;
      socket.resume();
      socket.on('end', () => socket.end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as net.AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  const guarded = createDeliverRound(createTargetGuard({ allowCidrs: [] }));

  it.each(['tcp', 'tls', 'udp', 'https'] as const)('a %s receiver on loopback is refused before any connection, by address or by name', async (transport) => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
      await expect(guarded(target(transport, host, port), ['<13>1 - - - - - - x'])).rejects.toThrow(/TARGET_REFUSED/);
    }
    expect(connections).toBe(0);
  });

  it('the cloud metadata address is refused whatever the transport', async () => {
    await expect(guarded(target('https', '169.254.169.254', 443), ['x'])).rejects.toThrow(/cloud metadata/);
  });

  it('a range the operator allows is delivered to, and a reserved one is not', async () => {
    const allowed = createDeliverRound(createTargetGuard({ allowCidrs: ['127.0.0.0/8'] }));
    await expect(allowed(target('tcp', '127.0.0.1', port), ['<13>1 - - - - - - x'])).resolves.toEqual({ confirmed: true });
    expect(connections).toBe(1);
    const reserved = createDeliverRound(createTargetGuard({ allowCidrs: [], denyCidrs: ['10.0.0.0/8'] }));
    await expect(reserved(target('udp', '10.1.2.3', 514), ['x'])).rejects.toThrow(/reserved/);
  });
});
