import { readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshdMissing, startSshd, sudoMissing, type TestSshd } from '../../../../test/support/sshd.js';
import type { PluginContext, TargetSecret } from './plugin.types.js';
import { sshKeyPlugin as plugin } from './ssh-key.js';
import { parsableEd25519 } from '../../../../test/support/ssh-keys.js';

let sshd: TestSshd;
let hang: net.Server;
let hangPort = 0;
const hung: net.Socket[] = [];

const dialTo = (port: number) => () => Promise.resolve(net.connect(port, '127.0.0.1'));
const ctx = (username: string, extra: Partial<PluginContext> = {}): PluginContext => ({ username, dial: dialTo(sshd.port), timeoutMs: 10_000, info: {}, ...extra });
const blobOf = (publicLine: string) => publicLine.split(' ')[1]!;
const blobOfSecret = (secret: TargetSecret) => {
  const key = ssh2.utils.parseKey(secret.secret, secret.passphrase ?? undefined);
  if (key instanceof Error || Array.isArray(key)) throw new Error('unparseable');
  return key.getPublicSSH().toString('base64');
};

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

describe.skipIf(skip)('the ssh-key plugin', () => {
  it('next is a fresh OpenSSH ed25519 key, without a passphrase unless the credential asks for one', async () => {
    const plain = await plugin.next(ctx('anyone'), () => 'Unused-1');
    expect(plain.secret).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(plain.passphrase).toBeNull();
    expect(blobOfSecret(plain)).not.toBe(blobOfSecret(await plugin.next(ctx('anyone'), () => 'Unused-1')));
    const encrypted = await plugin.next(ctx('anyone', { info: { keyPassphrase: true } }), () => 'Pass-phrase-1');
    expect(encrypted.passphrase).toBe('Pass-phrase-1');
    expect(ssh2.utils.parseKey(encrypted.secret)).toBeInstanceOf(Error);
    expect(ssh2.utils.parseKey(encrypted.secret, 'Pass-phrase-1')).not.toBeInstanceOf(Error);
  });

  it('rotates: the new key logs in, the old one is refused, and other authorized keys stay', async () => {
    const old = parsableEd25519();
    const other = parsableEd25519();
    const otherLine = `from="127.0.0.1" ${other.public.trim()}`;
    const user = await sshd.createUser({ authorizedKeys: [old.public, otherLine] });
    const current = { secret: old.private };
    expect(await plugin.verify(ctx(user.username), current)).toBe(true);
    const next = await plugin.next(ctx(user.username), () => 'Unused-1');
    await plugin.change(ctx(user.username), { current, next });
    expect(await plugin.verify(ctx(user.username), next)).toBe(true);
    expect(await plugin.verify(ctx(user.username), current)).toBe(false);
    const file = `${user.home}/.ssh/authorized_keys`;
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines).toEqual([otherLine, expect.stringContaining(blobOfSecret(next))]);
    expect(lines.join('\n')).not.toContain(blobOf(old.public));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await plugin.verify(ctx(user.username), { secret: other.private })).toBe(true);
  });

  // Each encrypted key parse is half a second of bcrypt in JavaScript; on a loaded machine this test takes a while.
  it('rotates a key with a passphrase into a key with a passphrase', { timeout: 90_000 }, async () => {
    const old = parsableEd25519({ passphrase: 'Old-phrase-1' });
    const user = await sshd.createUser({ authorizedKeys: [old.public] });
    const current = { secret: old.private, passphrase: 'Old-phrase-1' };
    expect(await plugin.verify(ctx(user.username), current)).toBe(true);
    expect(await plugin.verify(ctx(user.username), { secret: old.private, passphrase: 'wrong' })).toBe(false);
    const info = { keyPassphrase: true };
    const next = await plugin.next(ctx(user.username, { info }), () => 'New-phrase-1');
    await plugin.change(ctx(user.username, { info }), { current, next });
    expect(await plugin.verify(ctx(user.username), next)).toBe(true);
    expect(await plugin.verify(ctx(user.username), current)).toBe(false);
  });

  it('a key the account does not have fails with ROTATION_AUTH_FAILED and leaves authorized_keys alone', async () => {
    const old = parsableEd25519();
    const user = await sshd.createUser({ authorizedKeys: [old.public] });
    const before = readFileSync(`${user.home}/.ssh/authorized_keys`, 'utf8');
    const stranger = { secret: parsableEd25519().private };
    await expect(plugin.change(ctx(user.username), { current: stranger, next: await plugin.next(ctx(user.username), () => 'x') })).rejects.toMatchObject({ code: 'ROTATION_AUTH_FAILED' });
    expect(readFileSync(`${user.home}/.ssh/authorized_keys`, 'utf8')).toBe(before);
    expect(await plugin.verify(ctx(user.username), { secret: old.private })).toBe(true);
  });

  it('when the target does not take the new key, the new line is withdrawn and the old key keeps working', async () => {
    const old = parsableEd25519();
    const user = await sshd.createUser({ authorizedKeys: [old.public] });
    const file = `${user.home}/.ssh/authorized_keys`;
    const next = await plugin.next(ctx(user.username), () => 'x');
    const newBlob = blobOfSecret(next);
    let dials = 0;
    // Before the login with the new key, the new line is limited to another network: sshd refuses it from loopback.
    const dial = () => {
      dials += 1;
      if (dials === 2) writeFileSync(file, readFileSync(file, 'utf8').replace(/^(ssh-ed25519 \S+ custos-rotated)$/m, 'from="192.0.2.1" $1'));
      return Promise.resolve(net.connect(sshd.port, '127.0.0.1'));
    };
    await expect(plugin.change(ctx(user.username, { dial }), { current: { secret: old.private }, next })).rejects.toMatchObject({ code: 'ROTATION_SSH_KEY_NOT_ACCEPTED' });
    expect(dials).toBe(3);
    expect(readFileSync(file, 'utf8')).not.toContain(newBlob);
    expect(readFileSync(file, 'utf8')).toContain(blobOf(old.public));
    expect(await plugin.verify(ctx(user.username), { secret: old.private })).toBe(true);
  });

  it('a secret that is not a key verifies false and cannot be rotated', async () => {
    const user = await sshd.createUser();
    expect(await plugin.verify(ctx(user.username), { secret: user.password })).toBe(false);
    await expect(plugin.change(ctx(user.username), { current: { secret: user.password }, next: await plugin.next(ctx(user.username), () => 'x') })).rejects.toMatchObject({ code: 'ROTATION_SSH_KEY_INVALID' });
  });

  it('a hanging target times out cleanly', async () => {
    const hanging = ctx('anyone', { dial: dialTo(hangPort), timeoutMs: 500 });
    const key = await plugin.next(hanging, () => 'x');
    const started = Date.now();
    await expect(plugin.verify(hanging, key)).rejects.toMatchObject({ code: 'ROTATION_TARGET_TIMEOUT' });
    await expect(plugin.change(hanging, { current: key, next: await plugin.next(hanging, () => 'x') })).rejects.toMatchObject({ code: 'ROTATION_TARGET_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe.skipIf(skip || sudoMissing() !== null)('the ssh-key plugin resetting an account (reconciliation)', () => {
  it('an admin allowed to run a shell as the account installs the new key as the account and takes out the stored one', async () => {
    const stored = parsableEd25519();
    const other = parsableEd25519();
    const user = await sshd.createUser({ authorizedKeys: [stored.public, other.public] });
    const admin = await sshd.createUser({ sudoRule: `ALL=(${user.username}) NOPASSWD: /bin/sh` });
    const next = await plugin.next(ctx(user.username), () => 'x');
    await plugin.change(ctx(user.username), { current: { secret: stored.private }, next, admin: { username: admin.username, secret: { secret: admin.password } }, reset: true });
    expect(await plugin.verify(ctx(user.username), next)).toBe(true);
    expect(await plugin.verify(ctx(user.username), { secret: stored.private })).toBe(false);
    expect(await plugin.verify(ctx(user.username), { secret: other.private })).toBe(true);
    const file = `${user.home}/.ssh/authorized_keys`;
    // Written by the account itself: its own file, mode 600, never root's.
    expect(statSync(file).uid).toBe(statSync(user.home).uid);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('a reset when the stored secret is not even a key still installs the new key', async () => {
    const user = await sshd.createUser();
    const admin = await sshd.createUser({ sudoRule: `ALL=(${user.username}) NOPASSWD: /bin/sh` });
    const next = await plugin.next(ctx(user.username), () => 'x');
    await plugin.change(ctx(user.username), { current: { secret: 'not a key' }, next, admin: { username: admin.username, secret: { secret: admin.password } }, reset: true });
    expect(await plugin.verify(ctx(user.username), next)).toBe(true);
  });

  it('an admin who may not run a shell as the account fails with ROTATION_PERMISSION_DENIED and changes nothing', async () => {
    const stored = parsableEd25519();
    const user = await sshd.createUser({ authorizedKeys: [stored.public] });
    const admin = await sshd.createUser({ sudo: true });
    const before = readFileSync(`${user.home}/.ssh/authorized_keys`, 'utf8');
    const next = await plugin.next(ctx(user.username), () => 'x');
    const asAdmin = { username: admin.username, secret: { secret: admin.password } };
    await expect(plugin.change(ctx(user.username), { current: { secret: stored.private }, next, admin: asAdmin, reset: true })).rejects.toMatchObject({ code: 'ROTATION_PERMISSION_DENIED' });
    expect(readFileSync(`${user.home}/.ssh/authorized_keys`, 'utf8')).toBe(before);
    await expect(plugin.change(ctx(user.username), { current: { secret: stored.private }, next, reset: true })).rejects.toMatchObject({ code: 'ROTATION_RECONCILE_NOT_SET' });
  });
});
