import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/platform/db/database.js';
import { createTestDatabase, dialects, withInstallation, type TestDatabase } from '../support/databases.js';
import { childEnv, runCli, startServer, type ServerProcess } from '../support/processes.js';

const SECRET = 'Cli_Imported-Secret_0042';

describe.each(dialects)('custos import on %s', (dialect) => {
  let target: TestDatabase;
  let dir: string;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess;
  let tenantId: string;

  const withDb = <T>(work: (db: Database) => Promise<T>) => withInstallation({ postgresUrl: dialect === 'postgres' ? target.postgresUrl : undefined, dataDir }, work);
  const countOf = (table: 'devices' | 'credentials') =>
    withDb(async ({ db }) => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n));
  const file = (name: string, content: string) => {
    const where = path.join(dir, name);
    writeFileSync(where, content);
    return where;
  };

  beforeAll(async () => {
    target = await createTestDatabase(dialect);
    dir = mkdtempSync(path.join(os.tmpdir(), 'custos-import-'));
    dataDir = path.join(dir, 'data');
    env = childEnv({ CUSTOS_DATA_DIR: dataDir, CUSTOS_DATABASE_URL: target.postgresUrl });
    server = await startServer(env);
    const created = runCli(['tenant', 'create', 'importer', '--admin-email', 'admin@importer.example', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    tenantId = JSON.parse(created.stdout).tenant.id;
  });
  afterAll(async () => {
    await server?.stop();
    await target.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const csv = ['device,address,port,protocol,site,type,deviceTags,username,credentialType,secret,tags,notes', `db01,10.0.0.1,5432,postgres,lisbon,database,prod,postgres,password,${SECRET},dba,"main, primary"`, 'db01,10.0.0.1,5432,postgres,lisbon,database,prod,reporting,password,,ro,'].join('\r\n');

  it('a dry run checks the file and writes nothing; --json prints the result document', async () => {
    const res = runCli(['import', '--tenant', 'importer', file('inventory.csv', csv), '--dry-run', '--json'], env);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ ok: true, dryRun: true, format: 'csv', rows: 2, created: { devices: 1, credentials: 2 }, existingDevices: 0 });
    expect(await countOf('credentials')).toBe(0);
  });

  it('imports with progress lines on a non-terminal stderr and a summary, audited in the tenant and operator chains', async () => {
    const res = runCli(['import', '--tenant', 'importer', path.join(dir, 'inventory.csv')], env);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Imported into tenant importer: 1 device(s) and 2 credential(s) created from 2 rows');
    expect(res.stderr).toContain('checking: 100% (2/2 rows)');
    expect(res.stderr).toContain('writing: 100% (2/2 rows)');
    expect(`${res.stdout}${res.stderr}`).not.toContain(SECRET);
    expect([await countOf('devices'), await countOf('credentials')]).toEqual([1, 2]);
    const events = await withDb(({ db }) => db.selectFrom('audit_events').select(['tenant_id', 'actor_kind', 'details']).where('action', '=', 'vault.imported').orderBy('seq').execute());
    expect(events.map((e) => e.tenant_id).sort()).toEqual([tenantId, '00000000-0000-0000-0000-000000000000'].sort());
    const verify = runCli(['audit', 'verify', '--tenant', 'importer'], env);
    expect(verify.code, verify.stdout).toBe(0);
  });

  it('an invalid file exits 2, lists each bad row by number and writes nothing', async () => {
    const bad = JSON.stringify({ devices: [{ name: 'web01', address: '10.0.0.9', port: 99999, protocol: 'ssh' }], credentials: [{ device: 'db01', username: 'postgres', type: 'password' }] });
    const res = runCli(['import', '--tenant', 'importer', file('bad.json', bad)], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('devices row 1: port:');
    expect(res.stderr).toContain('credentials row 1: username:');
    expect(res.stderr).toContain('(CREDENTIAL_EXISTS)');
    expect(res.stderr).toContain('IMPORT_INVALID');
    expect([await countOf('devices'), await countOf('credentials')]).toEqual([1, 2]);
    const unknown = runCli(['import', '--tenant', 'importer', file('inventory.txt', csv)], env);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('--format')]);
  });
});
