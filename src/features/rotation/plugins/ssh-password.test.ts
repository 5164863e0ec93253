import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdMissing, startSshd, sudoMissing, type TestSshd } from '../../../../test/support/sshd.js';
import type { PluginContext } from './plugin.types.js';
import { sshPasswordPlugin as plugin } from './ssh-password.js';

// Every character a shell, chpasswd's "user:password" line or a pty could get wrong.
const nasty = `Zq7'"\\$(id)\`;|&<>*?~#!{}[]:% x^`;
const fresh = (tag: string) => `Nw-${tag}-${Math.random().toString(36).slice(2, 12)}9`;

let sshd: TestSshd;
let hang: net.Server;
let hangPort = 0;
const hung: net.Socket[] = [];

const dialTo = (port: number) => () => Promise.resolve(net.connect(port, '127.0.0.1'));
const ctx = (username: string, extra: Partial<PluginContext> = {}): PluginContext => ({ username, dial: dialTo(sshd.port), timeoutMs: 10_000, info: {}, ...extra });

/** The fingerprint the test sshd presents, as the credential would pin it. */
const hostFingerprint = (port: number) =>
  new Promise<string>((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', () => undefined);
    client.connect({
      sock: net.connect(port, '127.0.0.1'), username: 'nobody-here', password: 'x', hostHash: 'sha256',
      hostVerifier: (hash: string) => {
        resolve(`SHA256:${Buffer.from(hash, 'hex').toString('base64').replace(/=+$/, '')}`);
        client.end();
        return false;
      },
    } as never);
    setTimeout(() => reject(new Error('no host key')), 5000);
  });

const skip = sshdMissing() !== null;

beforeAll(async () => {
  if (skip) return;
  sshd = (await startSshd())!;
  hang = net.createServer((socket) => hung.push(socket));
  await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
  hangPort = (hang.address() as net.AddressInfo).port;
}, 60_000);
afterAll(async () => {
  for (const socket of hung) socket.destroy();
  await Promise.all([sshd?.stop(), hang && new Promise((r) => hang.close(r))]);
});

describe.skipIf(skip)('the ssh-password plugin', () => {
  it('verify answers true for the password and false for a wrong one', async () => {
    const user = await sshd.createUser();
    expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(true);
    expect(await plugin.verify(ctx(user.username), { secret: 'not-it' })).toBe(false);
    expect(await plugin.verify(ctx('ct_nosuchuser'), { secret: 'not-it' })).toBe(false);
  });

  it('next is the password generator output', async () => {
    expect(await plugin.next(ctx('anyone'), () => 'Generated-1')).toEqual({ secret: 'Generated-1' });
  });

  it('an account changes its own password with passwd: the new one logs in and the old one is refused', async () => {
    const user = await sshd.createUser();
    const next = { secret: fresh('self') };
    await plugin.change(ctx(user.username), { current: { secret: user.password }, next });
    expect(await plugin.verify(ctx(user.username), next)).toBe(true);
    expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(false);
  });

  it('passwords with shell-special characters rotate through passwd and back', async () => {
    const user = await sshd.createUser();
    await plugin.change(ctx(user.username), { current: { secret: user.password }, next: { secret: nasty } });
    expect(await plugin.verify(ctx(user.username), { secret: nasty })).toBe(true);
    const after = { secret: fresh('after') };
    await plugin.change(ctx(user.username), { current: { secret: nasty }, next: after });
    expect(await plugin.verify(ctx(user.username), after)).toBe(true);
    expect(await plugin.verify(ctx(user.username), { secret: nasty })).toBe(false);
  });

  it('a wrong current password fails with ROTATION_AUTH_FAILED and changes nothing', async () => {
    const user = await sshd.createUser();
    const error = await plugin.change(ctx(user.username), { current: { secret: 'wrong-current' }, next: { secret: fresh('x') } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ROTATION_AUTH_FAILED' });
    expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(true);
  });

  it("a new password the target's policy refuses fails with a code, names no secret, and keeps the old one", async () => {
    const user = await sshd.createUser();
    const error = (await plugin.change(ctx(user.username), { current: { secret: user.password }, next: { secret: 'ab1' } }).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('ROTATION_SSH_PASSWORD_REJECTED');
    expect(error.message).not.toContain(user.password);
    expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(true);
  });

  it('a new password with a line break is refused before anything is sent', async () => {
    await expect(plugin.change(ctx('ct_whoever'), { current: { secret: 'a' }, next: { secret: 'two\nlines' } })).rejects.toMatchObject({ code: 'ROTATION_SSH_UNSAFE_VALUE' });
  });

  it('a hanging target times out cleanly, and a closed port throws', async () => {
    const hanging = ctx('anyone', { dial: dialTo(hangPort), timeoutMs: 500 });
    const started = Date.now();
    await expect(plugin.verify(hanging, { secret: 'x' })).rejects.toMatchObject({ code: 'ROTATION_TARGET_TIMEOUT' });
    await expect(plugin.change(hanging, { current: { secret: 'x' }, next: { secret: 'Yy-123456' } })).rejects.toMatchObject({ code: 'ROTATION_TARGET_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
    const closed = ctx('anyone', { dial: () => new Promise((resolve, reject) => { const s = net.connect(1, '127.0.0.1', () => resolve(s)); s.once('error', reject); }) });
    await expect(plugin.verify(closed, { secret: 'x' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('a pinned host key fingerprint is enforced', async () => {
    const user = await sshd.createUser();
    const fingerprint = await hostFingerprint(sshd.port);
    expect(await plugin.verify(ctx(user.username, { info: { hostKeyFingerprint: fingerprint } }), { secret: user.password })).toBe(true);
    await expect(plugin.verify(ctx(user.username, { info: { hostKeyFingerprint: 'SHA256:AAAAnotthekey' } }), { secret: user.password })).rejects.toMatchObject({ code: 'ROTATION_SSH_HOST_KEY_MISMATCH' });
  });
});

describe.skipIf(skip || sudoMissing() !== null)('the ssh-password plugin with an admin account', () => {
  it('an admin with sudo chpasswd changes another account, special characters included', async () => {
    const [user, admin] = await Promise.all([sshd.createUser(), sshd.createUser({ sudo: true })]);
    const asAdmin = { username: admin.username, secret: { secret: admin.password } };
    await plugin.change(ctx(user.username), { current: { secret: 'unknown' }, next: { secret: nasty }, admin: asAdmin });
    expect(await plugin.verify(ctx(user.username), { secret: nasty })).toBe(true);
    expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(false);
    expect(await plugin.verify(ctx(admin.username), { secret: admin.password })).toBe(true);
  });

  it('an admin whose sudo rule asks for a password gets it from the admin credential', async () => {
    const [user, admin] = await Promise.all([sshd.createUser(), sshd.createUser()]);
    const rule = `/etc/sudoers.d/custos-test-${admin.username}-pw`;
    writeFileSync(rule, `${admin.username} ALL=(root) /usr/sbin/chpasswd\n`, { mode: 0o440 });
    try {
      const next = { secret: nasty };
      await plugin.change(ctx(user.username), { current: { secret: 'unknown' }, next, admin: { username: admin.username, secret: { secret: admin.password } } });
      expect(await plugin.verify(ctx(user.username), next)).toBe(true);
      expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(false);
    } finally {
      rmSync(rule, { force: true });
    }
  });

  it('a wrong admin password fails cleanly and the old password still works', async () => {
    const [user, admin] = await Promise.all([sshd.createUser(), sshd.createUser({ sudo: true })]);
    const error = (await plugin.change(ctx(user.username), { current: { secret: 'unknown' }, next: { secret: fresh('n') }, admin: { username: admin.username, secret: { secret: 'wrong-admin' } } }).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('ROTATION_AUTH_FAILED');
    expect(error.message).not.toContain('wrong-admin');
    expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(true);
  });

  it('an admin without a sudo grant is denied and changes nothing', async () => {
    const [user, notAdmin] = await Promise.all([sshd.createUser(), sshd.createUser()]);
    const next = fresh('n');
    const error = (await plugin.change(ctx(user.username), { current: { secret: 'unknown' }, next: { secret: next }, admin: { username: notAdmin.username, secret: { secret: notAdmin.password } } }).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('ROTATION_PERMISSION_DENIED');
    expect(error.message).not.toContain(next);
    expect(error.message).not.toContain(notAdmin.password);
    expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(true);
  });

  it('an admin naming an account that does not exist gets ROTATION_ACCOUNT_NOT_FOUND', async () => {
    const admin = await sshd.createUser({ sudo: true });
    await expect(plugin.change(ctx('ct_doesnotexist'), { current: { secret: 'x' }, next: { secret: fresh('n') }, admin: { username: admin.username, secret: { secret: admin.password } } })).rejects.toMatchObject({ code: 'ROTATION_ACCOUNT_NOT_FOUND' });
  });
});
