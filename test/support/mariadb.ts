import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from './postgres-cluster.js';

const MARIADBD = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd'].find((candidate) => existsSync(candidate)) ?? null;
const INSTALL_DB = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db', '/usr/sbin/mariadb-install-db'].find((candidate) => existsSync(candidate)) ?? null;

/** A throwaway MariaDB server on a random loopback port, with password authentication for real users. */
export interface TestMariadb {
  host: '127.0.0.1';
  port: number;
  rootPassword: string;
  stop(): Promise<void>;
  /** A user with a random name allowed from 127.0.0.1 (and localhost); `admin` grants ALL WITH GRANT OPTION plus CREATE USER. */
  createUser(options?: { password?: string; admin?: boolean }): Promise<{ username: string; password: string }>;
}

/** Why MariaDB tests cannot run here (null when they can); with CUSTOS_REQUIRE_PEERS=1 a missing peer fails instead. */
export function mariadbMissing(): string | null {
  if (MARIADBD && INSTALL_DB) return null;
  const line = 'mariadbd / mariadb-install-db is not installed: MariaDB target tests are SKIPPED. Run scripts/setup-system.sh to install the test peers.';
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
  return line;
}

const randomName = () => `u${randomBytes(5).toString('hex')}`;
const randomPassword = () => `P${randomBytes(12).toString('base64url')}9`;

/** Starts mariadbd from a fresh data dir (mariadb-install-db); null when MariaDB is missing (and not required). */
export async function startMariadb(): Promise<TestMariadb | null> {
  if (mariadbMissing()) return null;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'custos-mariadb-'));
  const dataDir = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  const errorLog = path.join(dir, 'error.log');
  // Running as root needs --user=root; otherwise the server runs as whoever starts it.
  const userArgs = process.getuid?.() === 0 ? ['--user=root'] : [];
  const install = spawnSync(INSTALL_DB!, ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...userArgs], { encoding: 'utf8', timeout: 60_000 });
  if (install.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout}`);
  }
  const port = await freePort();
  const child: ChildProcess = spawn(MARIADBD!, [
    '--no-defaults', `--datadir=${dataDir}`, `--socket=${socket}`, `--port=${port}`, '--bind-address=127.0.0.1',
    `--pid-file=${path.join(dir, 'mysqld.pid')}`, `--log-error=${errorLog}`, '--skip-name-resolve', '--skip-log-bin',
    '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=8M', '--max-connections=200', ...userArgs,
  ], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const rootPassword = randomPassword();
  let root: mysql.Connection | null = null;
  const until = Date.now() + 30_000;
  try {
    while (!root) {
      if (child.exitCode !== null) throw new Error(`mariadbd exited: ${existsSync(errorLog) ? readFileSync(errorLog, 'utf8') : ''}`);
      try {
        root = await mysql.createConnection({ socketPath: socket, user: 'root' });
      } catch (error) {
        if (Date.now() > until) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // A fresh install lets root in without a password; give the loopback root accounts one so password checks are real
    // (the hostname account is unreachable: names are not resolved).
    const [rows] = await root.query<mysql.RowDataPacket[]>("select host as h from mysql.user where user = 'root' and host in ('localhost', '127.0.0.1', '::1')");
    for (const row of rows) await root.query('alter user ?@? identified by ?', ['root', row.h, rootPassword]);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const rootConnection = root;
  return {
    host: '127.0.0.1',
    port,
    rootPassword,
    async createUser(options = {}) {
      const username = randomName();
      const password = options.password ?? randomPassword();
      for (const host of ['127.0.0.1', 'localhost']) {
        await rootConnection.query('create user ?@? identified by ?', [username, host, password]);
        if (options.admin) await rootConnection.query('grant all privileges on *.* to ?@? with grant option', [username, host]);
      }
      return { username, password };
    },
    async stop() {
      await rootConnection.end().catch(() => undefined);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
