import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './postgres-cluster.js';

const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((candidate) => existsSync(candidate)) ?? null;
const SUDO = ['/usr/bin/sudo', '/usr/sbin/sudo'].find((candidate) => existsSync(candidate)) ?? null;
const SUDOERS_DIR = '/etc/sudoers.d';

/** A throwaway OS account made by `createUser`. */
export interface TestSshUser { username: string; password: string; home: string; remove(): Promise<void> }

/** A real sshd on a loopback port with its own host key and config; only the throwaway `ct_*` users may log in. */
export interface TestSshd {
  host: '127.0.0.1';
  port: number;
  stop(): Promise<void>;
  /** A throwaway OS account with this password (random name); `remove()` deletes it and its home. */
  /** `sudo`: may run /usr/sbin/chpasswd as root; `sudoRule`: another sudoers rule (after the user name), such as "ALL=(ct_x) NOPASSWD: /bin/sh". */
  createUser(options?: { password?: string; sudo?: boolean; sudoRule?: string; authorizedKeys?: string[] }): Promise<TestSshUser>;
}

/** Why sshd tests cannot run here (null when they can); with CUSTOS_REQUIRE_PEERS=1 a missing peer fails instead. */
export function sshdMissing(): string | null {
  const reason = !SSHD ? 'sshd (openssh-server) is not installed'
    : process.getuid?.() !== 0 ? 'the tests do not run as root (throwaway OS accounts need useradd)'
      : spawnSync('ssh-keygen', ['-?']).error ? 'ssh-keygen is not installed' : null;
  if (!reason) return null;
  const line = `${reason}: SSH target tests are SKIPPED. Run scripts/setup-system.sh to install the test peers.`;
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
  return reason;
}

/** Why `createUser({ sudo: true })` cannot work here (null when it can); sudo comes from scripts/setup-system.sh. */
export function sudoMissing(): string | null {
  if (SUDO && existsSync(SUDOERS_DIR)) return null;
  const line = 'sudo is not installed: SSH rotation tests through an admin account (sudo chpasswd) are SKIPPED. Run scripts/setup-system.sh to install the test peers.';
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
  return line;
}

const run = (command: string, args: string[], input?: string) => {
  const result = spawnSync(command, args, { input, encoding: 'utf8', timeout: 30_000 });
  return { ok: result.status === 0, output: `${result.stderr ?? ''}${result.stdout ?? ''}${result.error?.message ?? ''}` };
};

// useradd/userdel lock /etc/passwd; parallel test files (other processes) can collide, so a busy lock is retried.
async function runLocked(command: string, args: string[], input?: string): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const result = run(command, args, input);
    if (result.ok) return;
    last = result.output;
    if (!/lock|try again/i.test(last)) break;
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
  }
  throw new Error(`${command} ${args.filter((a) => !a.includes(':')).join(' ')} failed: ${last.trim()}`);
}

// One account change at a time within this process, so a bench creating hundreds of users does not fight itself.
let accountQueue: Promise<unknown> = Promise.resolve();
const serially = <T>(work: () => Promise<T>): Promise<T> => {
  const next = accountQueue.then(work, work);
  accountQueue = next.catch(() => undefined);
  return next;
};

const randomPassword = () => `Pw-${randomBytes(12).toString('base64url')}7`;

const waitListening = async (port: number, exited: () => boolean, output: () => string) => {
  const until = Date.now() + 15_000;
  for (;;) {
    // sshd speaks first: a banner means it is ready to authenticate, not merely bound.
    const banner = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString('latin1').startsWith('SSH-'));
      });
      socket.on('error', () => resolve(false));
      socket.setTimeout(2000, () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (banner) return;
    if (exited()) throw new Error(`sshd exited: ${output()}`);
    if (Date.now() > until) throw new Error(`sshd did not listen on ${port}: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

function config(dir: string, port: number): string {
  return `ListenAddress 127.0.0.1
Port ${port}
HostKey ${dir}/host_ed25519_key
PidFile ${dir}/sshd.pid
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
PermitRootLogin no
AllowUsers ct_*
UseDNS no
PrintMotd no
PrintLastLog no
LoginGraceTime 30
MaxAuthTries 6
MaxStartups 200
MaxSessions 20
LogLevel VERBOSE
Subsystem sftp internal-sftp
`;
}

/** Starts a real sshd on a random loopback port with a throwaway host key and config; null when sshd is missing (and not required). */
export async function startSshd(): Promise<TestSshd | null> {
  if (sshdMissing()) return null;
  // sshd insists on its privilege-separation directory even when it never chroots there.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'custos-sshd-'));
  const keygen = run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'custos-test-host', '-f', path.join(dir, 'host_ed25519_key')]);
  if (!keygen.ok) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`ssh-keygen failed: ${keygen.output}`);
  }
  const port = await freePort();
  const configFile = path.join(dir, 'sshd_config');
  writeFileSync(configFile, config(dir, port), { mode: 0o600 });
  let output = '';
  const child: ChildProcess = spawn(SSHD!, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Keeps only the tail: a bench's hundreds of logins would otherwise grow this without bound.
  const collect = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await waitListening(port, () => child.exitCode !== null || child.signalCode !== null, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const users = new Map<string, TestSshUser>();

  async function createUser(options: { password?: string; sudo?: boolean; sudoRule?: string; authorizedKeys?: string[] } = {}): Promise<TestSshUser> {
    if ((options.sudo || options.sudoRule) && sudoMissing()) throw new Error('sudo is not installed (scripts/setup-system.sh installs it)');
    const username = `ct_${randomBytes(4).toString('hex')}`;
    const password = options.password ?? randomPassword();
    if (/[\n\r]/.test(password)) throw new Error('a test password cannot hold a line break');
    const home = path.join('/home', username);
    const sudoers = path.join(SUDOERS_DIR, `custos-test-${username}`);
    let removed = false;
    const remove = () => serially(async () => {
      if (removed) return;
      removed = true;
      users.delete(username);
      rmSync(sudoers, { force: true });
      // -f: a session still open (a passwd left hanging by a failed test) must not keep the account alive.
      await runLocked('userdel', ['-r', '-f', username]).catch(() => rmSync(home, { recursive: true, force: true }));
    });
    await serially(async () => {
      await runLocked('useradd', ['-m', '-s', '/bin/bash', username]);
      await runLocked('chpasswd', [], `${username}:${password}\n`);
    });
    const user: TestSshUser = { username, password, home, remove };
    users.set(username, user);
    try {
      if (options.sudo || options.sudoRule) {
        writeFileSync(sudoers, `${username} ${options.sudoRule ?? 'ALL=(root) NOPASSWD: /usr/sbin/chpasswd'}\n`, { mode: 0o440 });
        const check = run('visudo', ['-cf', sudoers]);
        if (!check.ok) throw new Error(`the sudoers file for ${username} is invalid: ${check.output}`);
      }
      if (options.authorizedKeys) {
        const uid = Number(run('id', ['-u', username]).output.trim());
        const gid = Number(run('id', ['-g', username]).output.trim());
        const sshDir = path.join(home, '.ssh');
        mkdirSync(sshDir, { mode: 0o700 });
        chownSync(sshDir, uid, gid);
        const file = path.join(sshDir, 'authorized_keys');
        writeFileSync(file, options.authorizedKeys.map((key) => `${key.trim()}\n`).join(''), { mode: 0o600 });
        chownSync(file, uid, gid);
      }
    } catch (error) {
      await remove();
      throw error;
    }
    return user;
  }

  return {
    host: '127.0.0.1',
    port,
    createUser,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      for (const user of [...users.values()]) await user.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
