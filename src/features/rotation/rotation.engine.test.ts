import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { startMariadb, type TestMariadb } from '../../../test/support/mariadb.js';
import { allRowsText } from '../../../test/support/plaintext.js';
import { apiCall } from '../../../test/support/users.js';
import { addAccount, addCredential, currentSecret, loopbackDialer, rotationOf } from './fixtures/harness.js';
import { startPostgresTarget, type PostgresTarget } from '../../../test/support/postgres-target.js';
import { mysqlPlugin } from './plugins/mysql.js';
import type { PluginContext, RotationPlugin } from './plugins/plugin.types.js';
import { postgresPlugin } from './plugins/postgres.js';
import * as store from './rotation.store.js';

let pgTarget: PostgresTarget | null = null;
let maria: TestMariadb | null = null;
beforeAll(async () => {
  [pgTarget, maria] = await Promise.all([startPostgresTarget(), startMariadb()]);
}, 120_000);
afterAll(async () => {
  await Promise.all([pgTarget?.stop(), maria?.stop()]);
});

const ctxFor = (port: number, username: string, info: Record<string, unknown> = {}): PluginContext => ({ username, timeoutMs: 5_000, info, dial: () => loopbackDialer({ tenantId: 'x', host: '127.0.0.1', port }) });

describe.each(dialects)('rotation engine on %s', (dialect) => {
  let t: TestApp;
  let tenantId: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    tenantId = (await t.tenantWithAdmin('rot')).id;
  });
  afterAll(() => t.close());

  const events = async (credentialId: string) =>
    (await t.runtime.database.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('target_id', '=', credentialId).orderBy('seq').execute()).map((e) => ({ type: e.action, details: JSON.parse(e.details) as Record<string, unknown> }));

  it('rotates a PostgreSQL role: the vault holds a new version that logs in, and the old password is refused', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, role);
    const { engine, rotations } = rotationOf(t.runtime);
    const rotation = await rotations.request({ kind: 'user', id: 'u1', tenantId }, credentialId);
    expect(rotation.state).toBe('scheduled');
    expect(await engine.run(tenantId, rotation.id)).toEqual({ state: 'succeeded', retry: false });
    const current = await currentSecret(t.runtime, tenantId, credentialId);
    expect(current.version).toBe(2);
    expect(current.secret).not.toBe(role.password);
    // The default policy: 20 characters of all four classes.
    expect(current.secret).toHaveLength(20);
    const ctx = ctxFor(pgTarget.port, role.username);
    expect(await postgresPlugin.verify(ctx, { secret: current.secret })).toBe(true);
    expect(await postgresPlugin.verify(ctx, { secret: role.password })).toBe(false);
    const row = (await store.findRotation(t.runtime.database.db, tenantId, rotation.id))!;
    expect(row).toMatchObject({ state: 'succeeded', step: 'promoted', attempts: 1, pending_secret_sealed: null, from_version: 1, to_version: 2 });
    const log = await events(credentialId);
    expect(log.map((e) => e.type)).toEqual(['credential.created', 'credential.secret.changed', 'rotation.scheduled', 'credential.secret.changed', 'rotation.succeeded']);
    expect(log[3]!.details).toEqual({ version: 2, reason: 'rotation' });
    expect(JSON.stringify(log)).not.toContain(current.secret);
    const history = await t.runtime.services.credentialHistory.history({ kind: 'user', id: 'u1', tenantId }, credentialId, { limit: 10 });
    expect(history.versions.map((v) => [v.version, v.reason])).toEqual([[2, 'rotation'], [1, 'created']]);
  });

  it('rotates a MariaDB user with an admin credential of the same device', async (c) => {
    if (!maria) return c.skip();
    const [user, admin] = await Promise.all([maria.createUser(), maria.createUser({ admin: true })]);
    const { deviceId, credentialId: adminId } = await addAccount(t.runtime, tenantId, { protocol: 'mysql', port: maria.port }, admin);
    const { credentialId } = await addCredential(t.runtime, tenantId, deviceId, user, { adminCredentialId: adminId });
    const { engine, rotations } = rotationOf(t.runtime);
    const rotation = await rotations.request({ kind: 'user', id: 'u1', tenantId }, credentialId);
    expect((await engine.run(tenantId, rotation.id)).state).toBe('succeeded');
    const current = await currentSecret(t.runtime, tenantId, credentialId);
    const ctx = ctxFor(maria.port, user.username);
    expect(await mysqlPlugin.verify(ctx, { secret: current.secret })).toBe(true);
    expect(await mysqlPlugin.verify(ctx, { secret: user.password })).toBe(false);
  });

  it('a wrong admin credential fails the rotation cleanly with ROTATION_AUTH_FAILED and the current secret still logs in', async (c) => {
    if (!maria) return c.skip();
    const [user, admin] = await Promise.all([maria.createUser(), maria.createUser({ admin: true })]);
    const { deviceId, credentialId: adminId } = await addAccount(t.runtime, tenantId, { protocol: 'mysql', port: maria.port }, { username: admin.username, password: 'Wrong-admin-password-1' });
    const { credentialId } = await addCredential(t.runtime, tenantId, deviceId, user, { adminCredentialId: adminId });
    const { engine, rotations } = rotationOf(t.runtime);
    const rotation = await rotations.request({ kind: 'user', id: 'u1', tenantId }, credentialId);
    expect(await engine.run(tenantId, rotation.id, { finalAttempt: false })).toEqual({ state: 'failed', retry: false });
    const row = (await store.findRotation(t.runtime.database.db, tenantId, rotation.id))!;
    expect(row).toMatchObject({ state: 'failed', error_code: 'ROTATION_AUTH_FAILED', pending_secret_sealed: null });
    expect(row.error_message).not.toContain('Wrong-admin-password-1');
    const current = await currentSecret(t.runtime, tenantId, credentialId);
    expect(current).toMatchObject({ secret: user.password, version: 1 });
    expect(await mysqlPlugin.verify(ctxFor(maria.port, user.username), { secret: user.password })).toBe(true);
    expect((await events(credentialId)).at(-1)).toMatchObject({ type: 'rotation.failed', details: { errorCode: 'ROTATION_AUTH_FAILED', step: 'pending-committed' } });
  });

  it('neither the old nor the new secret of a rotation is stored in plaintext or answered by the rotation routes', async (c) => {
    if (!pgTarget) return c.skip();
    const admin = await t.tenantWithAdmin('rot-plain');
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, admin.id, { protocol: 'postgres', port: pgTarget.port }, role);
    const { engine } = rotationOf(t.runtime);
    const requested = await apiCall(t, 'POST', `/credentials/${credentialId}/rotate`, admin.token);
    expect(requested.statusCode, requested.body).toBe(202);
    const id = requested.json().rotation.id as string;
    expect(await engine.run(admin.id, id)).toEqual({ state: 'succeeded', retry: false });
    const current = await currentSecret(t.runtime, admin.id, credentialId);
    const answers = [requested.body, (await apiCall(t, 'GET', `/rotations/${id}`, admin.token)).body, (await apiCall(t, 'GET', `/credentials/${credentialId}/rotations`, admin.token)).body].join('\n');
    const rows = await allRowsText(t);
    for (const secret of [role.password, current.secret]) {
      expect(answers).not.toContain(secret);
      expect(rows).not.toContain(secret);
    }
    // The SQLite file and its write-ahead log, as bytes: a secret must not sit there even in a freed page.
    for (const file of t.target.sqliteFile ? [t.target.sqliteFile, `${t.target.sqliteFile}-wal`].filter(existsSync) : []) {
      expect(readFileSync(file).includes(Buffer.from(current.secret))).toBe(false);
    }
  });

  it('a target that hangs times out: the rotation is retried, then fails on its last attempt, and nothing is lost', async () => {
    const hung: net.Socket[] = [];
    const server = net.createServer((socket) => hung.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { credentialId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port }, { username: 'hung', password: 'Original-password-1' });
      const { engine, rotations } = rotationOf(t.runtime, { timeoutMs: 300 });
      const rotation = await rotations.request({ kind: 'user', id: 'u1', tenantId }, credentialId);
      expect(await engine.run(tenantId, rotation.id, { finalAttempt: false })).toEqual({ state: 'scheduled', retry: true });
      // Whether the change reached the target is unknown: the pending secret stays for the next attempt to settle.
      expect(await store.findRotation(t.runtime.database.db, tenantId, rotation.id)).toMatchObject({ state: 'scheduled', error_code: 'ROTATION_TARGET_TIMEOUT' });
      expect(await engine.run(tenantId, rotation.id, { finalAttempt: true })).toEqual({ state: 'failed', retry: false });
      expect(await store.findRotation(t.runtime.database.db, tenantId, rotation.id)).toMatchObject({ state: 'failed', error_code: 'ROTATION_TARGET_TIMEOUT' });
      expect(await currentSecret(t.runtime, tenantId, credentialId)).toMatchObject({ secret: 'Original-password-1', version: 1 });
    } finally {
      for (const socket of hung) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('when the change answers with an error but took effect, settling finds the new secret and promotes it', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, role);
    const flaky: RotationPlugin = { ...postgresPlugin, change: async (ctx, change) => { await postgresPlugin.change(ctx, change); throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' }); } };
    const { engine, rotations } = rotationOf(t.runtime, { plugins: { postgres: flaky } });
    const rotation = await rotations.request({ kind: 'user', id: 'u1', tenantId }, credentialId);
    expect((await engine.run(tenantId, rotation.id)).state).toBe('succeeded');
    const current = await currentSecret(t.runtime, tenantId, credentialId);
    expect(await postgresPlugin.verify(ctxFor(pgTarget.port, role.username), { secret: current.secret })).toBe(true);
  });

  it('a target that accepts neither secret fails ROTATION_OUT_OF_SYNC, keeps both sealed and records credential.out_of_sync', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, role);
    // Someone changes the password behind the vault's back.
    await postgresPlugin.change(ctxFor(pgTarget.port, role.username), { current: { secret: role.password }, next: { secret: 'Changed-elsewhere-1' } });
    const { engine, rotations } = rotationOf(t.runtime);
    const rotation = await rotations.request({ kind: 'user', id: 'u1', tenantId }, credentialId);
    expect((await engine.run(tenantId, rotation.id)).state).toBe('failed');
    const row = (await store.findRotation(t.runtime.database.db, tenantId, rotation.id))!;
    expect(row.error_code).toBe('ROTATION_OUT_OF_SYNC');
    expect(row.pending_secret_sealed).not.toBeNull();
    expect(await currentSecret(t.runtime, tenantId, credentialId)).toMatchObject({ secret: role.password, needsRotation: true });
    expect((await events(credentialId)).slice(-2).map((e) => e.type)).toEqual(['rotation.failed', 'credential.out_of_sync']);
  });

  it('at most one rotation runs per device by default: a second one waits (busy) until the first ends', async (c) => {
    if (!pgTarget) return c.skip();
    const [a, b] = await Promise.all([pgTarget.createRole(), pgTarget.createRole()]);
    const { deviceId, credentialId: first } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, a);
    const { credentialId: second } = await addCredential(t.runtime, tenantId, deviceId, b);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inChange = new Promise<void>((resolve) => (entered = resolve));
    const slow: RotationPlugin = { ...postgresPlugin, change: async (ctx, change) => { entered(); await gate; await postgresPlugin.change(ctx, change); } };
    const { engine, rotations } = rotationOf(t.runtime, { plugins: { postgres: slow } });
    const actor = { kind: 'user' as const, id: 'u1', tenantId };
    const [r1, r2] = [await rotations.request(actor, first), await rotations.request(actor, second)];
    const running = engine.run(tenantId, r1.id);
    await inChange;
    expect(await engine.run(tenantId, r2.id)).toEqual({ state: 'scheduled', retry: false, busy: true });
    release();
    expect((await running).state).toBe('succeeded');
    expect((await engine.run(tenantId, r2.id)).state).toBe('succeeded');
  });

  it('a credential already being rotated refuses a second request (409), and a scheduled one can be cancelled', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, role);
    const { engine, rotations } = rotationOf(t.runtime);
    const actor = { kind: 'user' as const, id: 'u1', tenantId };
    const rotation = await rotations.request(actor, credentialId);
    await expect(rotations.request(actor, credentialId)).rejects.toMatchObject({ code: 'ROTATION_IN_PROGRESS' });
    expect((await rotations.cancel(actor, rotation.id)).state).toBe('cancelled');
    expect(await engine.run(tenantId, rotation.id)).toEqual({ state: 'cancelled', retry: false });
    await expect(rotations.cancel(actor, rotation.id)).rejects.toMatchObject({ code: 'ROTATION_NOT_CANCELLABLE' });
    expect(await currentSecret(t.runtime, tenantId, credentialId)).toMatchObject({ secret: role.password, version: 1 });
  });
});
