// A throwaway PostgreSQL cluster for the bench, as test/support/postgres-cluster.ts starts one for the tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Cleanup } from './cleanup.js';

/** A running cluster: its URL, its directory and the server settings it was started with. */
export interface BenchPostgres {
  url: string;
  dir: string;
  version: string;
  settings: string;
}

function findBinDir(): string | null {
  const fromPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' }).stdout.trim();
  if (fromPath) return path.dirname(execFileSync('readlink', ['-f', fromPath], { encoding: 'utf8' }).trim());
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(path.join(root, v, 'bin', 'initdb'))) return path.join(root, v, 'bin');
  return null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/**
 * The durability the embedded store has: SQLite runs WAL with synchronous=NORMAL (a commit is not fsynced), so
 * PostgreSQL runs with synchronous_commit=off (a crash may lose the last commits, never corrupts); fsync stays on.
 */
const SETTINGS = '-c synchronous_commit=off -c shared_buffers=256MB -c max_connections=100';

/**
 * initdb in a temp dir and pg_ctl start on a random loopback port; stopped (immediate) and removed by the cleanup,
 * also on SIGINT. Throws when PostgreSQL's server binaries are not installed.
 */
export async function startBenchPostgres(cleanup: Cleanup): Promise<BenchPostgres> {
  const binDir = findBinDir();
  if (!binDir) throw new Error('PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin; run with --database sqlite');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'custos-bench-pg-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  cleanup.defer({ run: removeDir, onExit: removeDir });
  const dataDir = path.join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  // initdb refuses to run as root: the cluster then belongs to the postgres account.
  const run = (cmd: string, args: string[]) => {
    const full = path.join(binDir, cmd);
    const result = asRoot ? spawnSync('runuser', ['-u', 'postgres', '--', full, ...args], { encoding: 'utf8' }) : spawnSync(full, args, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${cmd} failed: ${result.stderr || result.stdout}`);
    return result.stdout;
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-instructions']);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${SETTINGS}`;
  const stop = () => {
    try {
      run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Not running (start failed or already stopped).
    }
  };
  // Registered after the directory, so it runs first.
  cleanup.defer({ run: stop, onExit: stop });
  run('pg_ctl', ['-D', dataDir, '-l', path.join(dir, 'server.log'), '-o', options, '-w', 'start']);
  const version = run('pg_ctl', ['--version']).trim();
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, dir, version, settings: SETTINGS };
}
