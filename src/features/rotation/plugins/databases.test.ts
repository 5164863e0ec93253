import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMariadb, type TestMariadb } from '../../../../test/support/mariadb.js';
import { startPostgresTarget, type PostgresTarget } from '../../../../test/support/postgres-target.js';
import { mysqlPlugin } from './mysql.js';
import type { PluginContext, RotationPlugin } from './plugin.types.js';
import { postgresPlugin } from './postgres.js';

const dialTo = (port: number) => () =>
  new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
// A password with every character SQL quoting must get right.
const nasty = `Aa1'"\\;--$$x%_\`)`;

let pgTarget: PostgresTarget | null = null;
let maria: TestMariadb | null = null;
let hang: net.Server;
let hangPort = 0;
const hung: net.Socket[] = [];

beforeAll(async () => {
  [pgTarget, maria] = await Promise.all([startPostgresTarget(), startMariadb()]);
  // Accepts connections and never says a word.
  hang = net.createServer((socket) => hung.push(socket));
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  hangPort = (hang.address() as net.AddressInfo).port;
}, 120_000);
afterAll(async () => {
  for (const socket of hung) socket.destroy();
  await Promise.all([pgTarget?.stop(), maria?.stop(), new Promise((r) => hang.close(r))]);
});

interface Case {
  name: string;
  plugin: RotationPlugin;
  ready: () => boolean;
  port: () => number;
  account: (admin?: boolean) => Promise<{ username: string; password: string }>;
  info: Record<string, unknown>;
}
const cases: Case[] = [
  { name: 'postgres', plugin: postgresPlugin, ready: () => pgTarget !== null, port: () => pgTarget!.port, account: (admin) => pgTarget!.createRole({ superuser: admin }), info: { database: 'postgres' } },
  { name: 'mysql (MariaDB)', plugin: mysqlPlugin, ready: () => maria !== null, port: () => maria!.port, account: (admin) => maria!.createUser({ admin }), info: {} },
];

describe.each(cases)('the $name plugin', (c) => {
  const ctx = (username: string, port = c.port(), timeoutMs = 5_000): PluginContext => ({ username, dial: dialTo(port), timeoutMs, info: c.info });

  it('changes its own password: the new one logs in and the old one is refused', async (t) => {
    if (!c.ready()) return t.skip();
    const account = await c.account();
    expect(await c.plugin.verify(ctx(account.username), { secret: account.password })).toBe(true);
    const next = await c.plugin.next(ctx(account.username), () => nasty);
    await c.plugin.change(ctx(account.username), { current: { secret: account.password }, next });
    expect(await c.plugin.verify(ctx(account.username), next)).toBe(true);
    expect(await c.plugin.verify(ctx(account.username), { secret: account.password })).toBe(false);
  });

  it('an admin account changes another account; a wrong admin secret fails and changes nothing', async (t) => {
    if (!c.ready()) return t.skip();
    const [account, admin] = await Promise.all([c.account(), c.account(true)]);
    const wrongAdmin = { username: admin.username, secret: { secret: 'not-the-password' } };
    await expect(c.plugin.change(ctx(account.username), { current: { secret: 'unknown' }, next: { secret: 'Never-used-1' }, admin: wrongAdmin })).rejects.toThrow();
    expect(await c.plugin.verify(ctx(account.username), { secret: account.password })).toBe(true);
    await c.plugin.change(ctx(account.username), { current: { secret: 'unknown' }, next: { secret: 'Changed-by-admin-1' }, admin: { username: admin.username, secret: { secret: admin.password } } });
    expect(await c.plugin.verify(ctx(account.username), { secret: 'Changed-by-admin-1' })).toBe(true);
    expect(await c.plugin.verify(ctx(account.username), { secret: account.password })).toBe(false);
  });

  it('a target that accepts the connection and never answers times out cleanly', async (t) => {
    if (!c.ready()) return t.skip();
    const started = Date.now();
    await expect(c.plugin.verify(ctx('anyone', hangPort, 500), { secret: 'x' })).rejects.toMatchObject({ code: 'ROTATION_TARGET_TIMEOUT' });
    await expect(c.plugin.change(ctx('anyone', hangPort, 500), { current: { secret: 'x' }, next: { secret: 'y' } })).rejects.toMatchObject({ code: 'ROTATION_TARGET_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
