import { mkdtempSync, readFileSync, rmSync, statSync, chmodSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, failedStart, runCli, startServer, type ServerProcess } from '../support/processes.js';

describe('installation safety on the embedded store', () => {
  let dir: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'custos-safety-'));
    dataDir = path.join(dir, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    env = childEnv({ CUSTOS_DATA_DIR: dataDir });
    server = await startServer(env);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tightens a data directory others could read', () => {
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(server.output()).toContain('it is now 0700');
  });

  it('refuses a second server on the same data directory', async () => {
    const second = await failedStart(env);
    expect(second.output).toContain(`Another Custos server (pid ${server.child.pid}) is using`);
  });

  it('a CLI command with a mistyped data directory creates nothing and says what to do', () => {
    const typo = path.join(dir, 'dta');
    const result = runCli(['--data-dir', typo, 'tenant', 'list'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('There is no Custos installation');
    expect(() => statSync(path.join(typo, 'root.key'))).toThrow();
    expect(() => statSync(path.join(typo, 'custos.db'))).toThrow();
  });

  it('usage errors exit 2, never 1 (which audit verify reserves for tampering)', () => {
    expect(runCli(['audit', 'verify', '--tenant'], env).code).toBe(2);
    expect(runCli(['audit', 'verify', '--bogus'], env).code).toBe(2);
    expect(runCli(['tenant', 'frobnicate'], env).code).toBe(2);
  });

  it('a port already in use is one line of explanation, not a stack trace', async () => {
    const port = new URL(server.url).port;
    const other = path.join(dir, 'other');
    const result = runCli(['server', '--data-dir', other, '--port', port], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is already in use');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("a deleted tenant's wrapped key is gone from the database file, not left in free pages", () => {
    const created = JSON.parse(runCli(['tenant', 'create', 'shred-me', '--admin-email', 'a@b.example', '--json'], env).stdout);
    const dbFile = path.join(dataDir, 'custos.db');
    const reader = new BetterSqlite3(dbFile, { readonly: true });
    const { wrapped_key: wrapped } = reader.prepare('select wrapped_key from tenant_keys where tenant_id = ?').get(created.tenant.id) as { wrapped_key: string };
    reader.close();
    expect(runCli(['tenant', 'delete', 'shred-me', '--yes'], env).code).toBe(0);
    const writer = new BetterSqlite3(dbFile);
    writer.pragma('wal_checkpoint(TRUNCATE)');
    writer.close();
    const bytes = Buffer.concat([readFileSync(dbFile), readFileSync(`${dbFile}-wal`)]);
    expect(bytes.includes(Buffer.from(wrapped))).toBe(false);
  });
});
