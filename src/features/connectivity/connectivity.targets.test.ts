import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { apiCall } from '../../../test/support/users.js';
import { startMariadb, type TestMariadb } from '../../../test/support/mariadb.js';
import { startPostgresTarget, type PostgresTarget } from '../../../test/support/postgres-target.js';
import { startSshd, type TestSshd } from '../../../test/support/sshd.js';
import { createLogger } from '../../platform/log.js';
import { createTargetDialer } from '../../platform/net/dial.js';
import { createConnectivityService, type ConnectivityService } from './connectivity.service.js';
import { parsableEd25519 } from '../../../test/support/ssh-keys.js';

let sshd: TestSshd | null = null;
let pgTarget: PostgresTarget | null = null;
let maria: TestMariadb | null = null;
let hang: net.Server;
let hangPort = 0;
const hung = new Set<net.Socket>();

beforeAll(async () => {
  [sshd, pgTarget, maria] = await Promise.all([startSshd(), startPostgresTarget(), startMariadb()]);
  // Accepts connections and never says a word.
  hang = net.createServer((socket) => hung.add(socket));
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  hangPort = (hang.address() as net.AddressInfo).port;
}, 180_000);
afterAll(async () => {
  for (const socket of hung) socket.destroy();
  await Promise.all([sshd?.stop(), pgTarget?.stop(), maria?.stop(), new Promise((r) => hang.close(r))]);
});

const listenOn = (port = 0) => new Promise<net.Server>((resolve, reject) => {
  const server = net.createServer((socket) => socket.end());
  server.once('error', reject);
  server.listen(port, '127.0.0.1', () => resolve(server));
});

describe.each(dialects)('connectivity checks of real targets on %s', (dialect) => {
  let t: TestApp;
  let admin: { id: string; token: string };
  let actor: { kind: 'user'; tenantId: string; id: string; ip: null };
  let service: ConnectivityService;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    const tenant = await t.tenantWithAdmin('acme');
    admin = { id: tenant.id, token: tenant.token };
    actor = await actorOf(tenant);
    const { db, audit, keyring, clock } = { db: t.runtime.database.db, audit: t.runtime.audit, keyring: t.runtime.keyring, clock: t.clock };
    // The loopback peers are allowed here, as CUSTOS_TARGET_ALLOW_CIDRS=127.0.0.0/8 allows them to a server.
    service = createConnectivityService({ db, audit, clock, keyring, dial: createTargetDialer({ allowCidrs: ['127.0.0.0/8'] }), log: createLogger({ level: 'silent' }), timeoutMs: 3_000 });
  }, 60_000);
  afterAll(async () => t?.close());

  async function actorOf(tenant: { id: string; token: string }) {
    return { kind: 'user' as const, tenantId: tenant.id, id: (await apiCall(t, 'GET', '/auth/me', tenant.token)).json().user.id as string, ip: null };
  }
  async function device(name: string, protocol: string, port: number) {
    return (await t.runtime.services.devices.create(actor, { name, address: '127.0.0.1', port, protocol: protocol as never })).id as string;
  }
  async function credential(deviceId: string, username: string, secret: string, extra: Record<string, unknown> = {}) {
    return (await t.runtime.services.credentials.create(actor, { deviceId, username, type: 'password', secret, ...extra } as never)).id as string;
  }
  const events = (action: string) => t.runtime.database.db.selectFrom('audit_events').select(['action', 'details', 'target_id']).where('tenant_id', '=', admin.id).where('action', '=', action).orderBy('seq').execute();

  it('a target that accepts and never speaks times out cleanly as unreachable', async () => {
    const id = await device('hangs', 'ssh', hangPort);
    const started = Date.now();
    const { check } = await service.checkNow(actor, id);
    expect(check).toMatchObject({ status: 'unreachable', code: 'CONNECTIVITY_TIMEOUT' });
    expect(check.latencyMs).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(6_000);
  });

  it('a hanging target times out cleanly mid-login too (postgres and mysql with a credential)', async () => {
    const quick = createConnectivityService({ db: t.runtime.database.db, audit: t.runtime.audit, clock: t.clock, keyring: t.runtime.keyring, dial: createTargetDialer({ allowCidrs: ['127.0.0.0/8'] }), log: createLogger({ level: 'silent' }), timeoutMs: 500 });
    for (const protocol of ['postgres', 'mysql']) {
      const id = await device(`hangs-${protocol}`, protocol, hangPort);
      await credential(id, 'someone', 'Some-password-1');
      const started = Date.now();
      expect((await quick.checkNow(actor, id)).check).toMatchObject({ status: 'unreachable', code: 'CONNECTIVITY_TIMEOUT' });
      expect(Date.now() - started).toBeLessThan(3_000);
    }
  });

  it('a loopback target without the allow list answers refused with TARGET_REFUSED', async () => {
    const strict = createConnectivityService({ db: t.runtime.database.db, audit: t.runtime.audit, clock: t.clock, keyring: t.runtime.keyring, dial: createTargetDialer({ allowCidrs: [] }), log: createLogger({ level: 'silent' }) });
    const id = await device('loopback', 'ssh', hangPort);
    const { check } = await strict.checkNow(actor, id);
    expect(check).toMatchObject({ status: 'refused', code: 'TARGET_REFUSED', latencyMs: null });
    expect(check.message).toContain('CUSTOS_TARGET_ALLOW_CIDRS');
  });

  it('losing and regaining a device records connectivity.lost and connectivity.restored once each', async () => {
    let server = await listenOn();
    const port = (server.address() as net.AddressInfo).port;
    const id = await device('web', 'http', port);
    expect((await service.checkNow(actor, id)).check.status).toBe('ok');
    expect((await service.checkNow(actor, id)).check.status).toBe('ok');
    await new Promise((r) => server.close(r));
    expect((await service.checkNow(actor, id)).check).toMatchObject({ status: 'unreachable', code: 'TARGET_UNREACHABLE' });
    expect((await service.checkNow(actor, id)).check.status).toBe('unreachable');
    server = await listenOn(port);
    t.clock.advance(60_000);
    expect((await service.checkNow(actor, id)).check.status).toBe('ok');
    await new Promise((r) => server.close(r));
    const lost = (await events('connectivity.lost')).filter((e) => e.target_id === id);
    const restored = (await events('connectivity.restored')).filter((e) => e.target_id === id);
    expect(lost).toHaveLength(1);
    expect(JSON.parse(lost[0]!.details as string)).toMatchObject({ status: 'unreachable', errorCode: 'TARGET_UNREACHABLE', device: 'web' });
    expect(restored).toHaveLength(1);
    expect(JSON.parse(restored[0]!.details as string)).toMatchObject({ from: 'unreachable', downForMs: 60_000 });
    const status = await service.status(actor, id, { limit: 3 });
    expect(status.current).toMatchObject({ status: 'ok' });
    expect(status.history.map((c) => c.status)).toEqual(['ok', 'unreachable', 'unreachable']);
    const rest = await service.status(actor, id, { limit: 3, cursor: status.nextCursor! });
    expect(rest.history.map((c) => c.status)).toEqual(['ok', 'ok']);
    expect(rest.nextCursor).toBeNull();
  });

  it('ssh: reads the banner, logs in with a password or a key, and a wrong password is degraded', async (c) => {
    if (!sshd) return c.skip();
    const { private: privateKey, public: publicKey } = parsableEd25519();
    const user = await sshd.createUser({ authorizedKeys: [publicKey] });
    try {
      const bare = await device('ssh-bare', 'ssh', sshd.port);
      expect((await service.checkNow(actor, bare)).check).toMatchObject({ status: 'ok', message: expect.stringMatching(/^SSH-2\.0-/) });
      const withPassword = await device('ssh-password', 'ssh', sshd.port);
      await credential(withPassword, user.username, user.password);
      expect((await service.checkNow(actor, withPassword)).check).toMatchObject({ status: 'ok', message: expect.stringContaining(`logged in as ${user.username}`) });
      const withKey = await device('ssh-key', 'ssh', sshd.port);
      await t.runtime.services.credentials.create(actor, { deviceId: withKey, username: user.username, type: 'ssh-key', secret: privateKey } as never);
      expect((await service.checkNow(actor, withKey)).check.status).toBe('ok');
      const wrong = await device('ssh-wrong', 'ssh', sshd.port);
      const wrongId = await credential(wrong, user.username, 'not-the-password-1');
      const answer = await service.checkNow(actor, wrong);
      expect(answer).toMatchObject({ credentialId: wrongId, check: { status: 'degraded', code: 'CONNECTIVITY_AUTH_FAILED' } });
      expect(JSON.stringify(answer)).not.toContain(user.password);
    } finally {
      await user.remove();
    }
  }, 60_000);

  it('postgres: the protocol handshake alone, a login, and a wrong password degraded', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const bare = await device('pg-bare', 'postgres', pgTarget.port);
    expect((await service.checkNow(actor, bare)).check.status).toBe('ok');
    const good = await device('pg-good', 'postgres', pgTarget.port);
    await credential(good, role.username, role.password, { additionalInfo: { database: 'postgres' } });
    expect((await service.checkNow(actor, good)).check).toMatchObject({ status: 'ok', message: expect.stringContaining(`logged in as ${role.username}`) });
    const wrong = await device('pg-wrong', 'postgres', pgTarget.port);
    await credential(wrong, role.username, 'not-the-password-1');
    expect((await service.checkNow(actor, wrong)).check).toMatchObject({ status: 'degraded', code: 'CONNECTIVITY_AUTH_FAILED' });
  }, 60_000);

  it('mysql (MariaDB): the server greeting alone, a login, and a wrong password degraded', async (c) => {
    if (!maria) return c.skip();
    const user = await maria.createUser();
    const bare = await device('maria-bare', 'mysql', maria.port);
    expect((await service.checkNow(actor, bare)).check).toMatchObject({ status: 'ok', message: expect.stringMatching(/MariaDB|^MySQL \d/) });
    const good = await device('maria-good', 'mysql', maria.port);
    await credential(good, user.username, user.password);
    expect((await service.checkNow(actor, good)).check).toMatchObject({ status: 'ok', message: expect.stringContaining(`logged in as ${user.username}`) });
    const wrong = await device('maria-wrong', 'mysql', maria.port);
    await credential(wrong, user.username, 'not-the-password-1');
    expect((await service.checkNow(actor, wrong)).check).toMatchObject({ status: 'degraded', code: 'CONNECTIVITY_AUTH_FAILED' });
  }, 60_000);

  it('a scheduled round checks only devices due under the tenant interval, and none when disabled', async () => {
    const other = await t.tenantWithAdmin('other');
    const otherActor = await actorOf(other);
    const server = await listenOn();
    await t.runtime.services.devices.create(otherActor, { name: 'a', address: '127.0.0.1', port: (server.address() as net.AddressInfo).port, protocol: 'http' } as never);
    await t.runtime.services.devices.create(otherActor, { name: 'b', address: '127.0.0.1', port: (server.address() as net.AddressInfo).port, protocol: 'http' } as never);
    await service.updateSettings(actor, { enabled: false });
    expect(await service.sweep({ concurrency: 2 })).toBe(2);
    expect(await service.sweep({ concurrency: 2 })).toBe(0);
    t.clock.advance(2 * 60_000);
    expect(await service.sweep()).toBe(0);
    t.clock.advance(60_000);
    expect(await service.sweep()).toBe(2);
    await service.updateSettings(otherActor, { intervalMinutes: 10 });
    t.clock.advance(5 * 60_000);
    expect(await service.sweep()).toBe(0);
    await new Promise((r) => server.close(r));
  });

  it('paced rounds spread a tenant\'s checks over its interval instead of checking every device in one burst', async () => {
    const paced = await t.tenantWithAdmin('paced');
    const pacedActor = await actorOf(paced);
    const server = await listenOn();
    const port = (server.address() as net.AddressInfo).port;
    for (let i = 0; i < 12; i += 1) await t.runtime.services.devices.create(pacedActor, { name: `p${i}`, address: '127.0.0.1', port, protocol: 'http' } as never);
    // Only this tenant checks: the others are switched off for the test.
    for (const who of [actor, await actorOf(await t.tenantWithAdmin('paced-off'))]) await service.updateSettings(who, { enabled: false });
    await t.runtime.database.db.updateTable('tenants').set({ status: 'suspended' }).where('id', 'not in', [paced.id]).execute();
    try {
      await service.updateSettings(pacedActor, { intervalMinutes: 1 });
      // A 20 s round of a 1-minute interval takes a quarter more than a third of the 12 devices: 5, oldest first.
      const rounds: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        rounds.push(await service.sweep({ pollMs: 20_000 }));
        t.clock.advance(20_000);
      }
      expect(rounds.slice(0, 3)).toEqual([5, 5, 2]);
      // Then every minute each device is checked once: 12 checks in each three rounds.
      expect(rounds.slice(3).reduce((a, b) => a + b, 0)).toBe(12);
    } finally {
      await t.runtime.database.db.updateTable('tenants').set({ status: 'active' }).where('status', '=', 'suspended').execute();
      await new Promise((r) => server.close(r));
    }
  });

  it('a round with spreadMs spaces its check starts evenly, and ends early when leadership is lost', async () => {
    const spread = await t.tenantWithAdmin('spread');
    const spreadActor = await actorOf(spread);
    const arrivals: number[] = [];
    const server = net.createServer((socket) => (arrivals.push(Date.now()), socket.end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    for (let i = 0; i < 4; i += 1) await t.runtime.services.devices.create(spreadActor, { name: `s${i}`, address: '127.0.0.1', port, protocol: 'http' } as never);
    await t.runtime.database.db.updateTable('tenants').set({ status: 'suspended' }).where('id', 'not in', [spread.id]).execute();
    try {
      expect(await service.sweep({ spreadMs: 900 })).toBe(4);
      // Starts at 0, 225, 450 and 675 ms: never all at once.
      expect(arrivals).toHaveLength(4);
      expect(arrivals[3]! - arrivals[0]!).toBeGreaterThanOrEqual(600);
      t.clock.advance(10 * 60_000);
      let leading = true;
      setTimeout(() => (leading = false), 300);
      const started = Date.now();
      expect(await service.sweep({ spreadMs: 60_000, isLeader: () => leading })).toBe(1);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await t.runtime.database.db.updateTable('tenants').set({ status: 'active' }).where('status', '=', 'suspended').execute();
      await new Promise((r) => server.close(r));
    }
  });
});
