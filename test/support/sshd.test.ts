import { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, sshdMissing, type TestSshd } from './sshd.js';
import { parsableEd25519 } from './ssh-keys.js';

/** Tries one login; answers 'ok', 'denied' (authentication failed) or the other error's message. */
function login(port: number, username: string, auth: { password?: string; privateKey?: string }): Promise<string> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    client.on('ready', () => {
      client.end();
      resolve('ok');
    });
    client.on('error', (error: Error & { level?: string }) => resolve(error.level === 'client-authentication' ? 'denied' : error.message));
    client.connect({ sock: net.connect(port, '127.0.0.1'), username, ...auth, readyTimeout: 10_000 });
  });
}

describe.skipIf(sshdMissing() !== null)('test sshd', () => {
  let sshd: TestSshd;
  beforeAll(async () => {
    sshd = (await startSshd())!;
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('lets a throwaway user log in with its password and refuses a wrong one', async () => {
    const user = await sshd.createUser();
    expect(user.username).toMatch(/^ct_[0-9a-f]{8}$/);
    expect(await login(sshd.port, user.username, { password: user.password })).toBe('ok');
    expect(await login(sshd.port, user.username, { password: `${user.password}x` })).toBe('denied');
    await user.remove();
    expect(existsSync(user.home)).toBe(false);
    expect(await login(sshd.port, user.username, { password: user.password })).toBe('denied');
  });

  it('installs authorized keys the way StrictModes accepts them', async () => {
    const keys = parsableEd25519();
    const user = await sshd.createUser({ authorizedKeys: [keys.public] });
    expect(statSync(`${user.home}/.ssh/authorized_keys`).mode & 0o777).toBe(0o600);
    expect(await login(sshd.port, user.username, { privateKey: keys.private })).toBe('ok');
    await user.remove();
  });

  it('grants a sudo user chpasswd only, and removes the grant with the user', async () => {
    const user = await sshd.createUser({ sudo: true });
    const file = `/etc/sudoers.d/custos-test-${user.username}`;
    expect(readFileSync(file, 'utf8')).toContain('/usr/sbin/chpasswd');
    await user.remove();
    expect(existsSync(file)).toBe(false);
  });

  it('removes every user it made when it stops', async () => {
    const other = (await startSshd())!;
    const user = await other.createUser();
    await other.stop();
    expect(existsSync(user.home)).toBe(false);
    expect(await new Promise((resolve) => net.connect(other.port, '127.0.0.1').on('error', () => resolve('closed')).on('connect', () => resolve('open')))).toBe('closed');
  });
});
