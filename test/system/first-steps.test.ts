import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/platform/db/database.js';
import { createTestDatabase, dialects, withInstallation, type TestDatabase } from '../support/databases.js';
import { childEnv, failedStart, runCli, startServer, type ServerProcess } from '../support/processes.js';

const PASSWORD = 'a long and careful passphrase';

describe.each(dialects)('custos from an empty data directory on %s', (dialect) => {
  let target: TestDatabase;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess;
  const secrets: string[] = [PASSWORD];
  let operatorToken = '';
  const logs: string[] = [];

  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, any> }); // eslint-disable-line @typescript-eslint/no-explicit-any
  const post = (pathname: string, body: unknown, token?: string) =>
    fetch(`${server.url}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
  const get = (pathname: string, token?: string) => fetch(`${server.url}${pathname}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const cli = (...args: string[]) => {
    const result = runCli(args, env);
    logs.push(result.stderr);
    return result;
  };
  /** Runs a --json command that must succeed; its stderr is in the failure message. */
  const cliJson = (...args: string[]) => {
    const result = cli(...args, '--json');
    expect(result.code, result.stderr).toBe(0);
    return JSON.parse(result.stdout);
  };
  const withDb = <T>(work: (db: Database) => Promise<T>) => withInstallation({ postgresUrl: dialect === 'postgres' ? target.postgresUrl : undefined, dataDir }, work);
  async function restart(extraEnv: Record<string, string> = {}) {
    if (server) logs.push(server.output());
    await server?.stop();
    server = await startServer({ ...env, ...extraEnv });
  }

  beforeAll(async () => {
    target = await createTestDatabase(dialect);
    dataDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'custos-system-')), 'data');
    env = childEnv({ CUSTOS_DATA_DIR: dataDir, CUSTOS_DATABASE_URL: target.postgresUrl });
  });
  afterAll(async () => {
    await server?.stop();
    await target.drop();
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  it('initialises everything on first start and says where it listens, the data dir and what to run next', async () => {
    server = await startServer(env);
    const out = server.output();
    expect(out).toContain(`is listening on ${server.url}`);
    expect(out).toContain(dataDir);
    expect(out).toContain('custos tenant create');
    expect(statSync(path.join(dataDir, 'root.key')).mode & 0o777).toBe(0o600);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    secrets.push(readFileSync(path.join(dataDir, 'root.key'), 'utf8').trim());
    expect(await json(await get('/v1/health'))).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await json(await get('/v1/ready'))).toMatchObject({ status: 200, body: { status: 'ready', checks: { database: { status: 'ok' }, keys: { status: 'ok' }, schema: { status: 'ok' } } } });
  });

  it("the README's first steps work: create a tenant, activate its admin, log in, me, log out", async () => {
    const created = cli('tenant', 'create', 'acme', '--admin-email', 'admin@acme.example', '--json');
    expect(created.code).toBe(0);
    const { tenant, activation } = JSON.parse(created.stdout);
    expect(tenant.slug).toBe('acme');
    secrets.push(activation.token);
    expect((await json(await post('/api/v1/auth/activate', { tenant: 'acme', token: activation.token, password: PASSWORD }))).status).toBe(200);
    const login = await json(await post('/api/v1/auth/login', { tenant: 'acme', username: 'admin@acme.example', password: PASSWORD }));
    expect(login.status).toBe(200);
    secrets.push(login.body.token);
    // The shipped policy wants an administrator's second factor: until enrolment only me, logout and enrolment answer.
    expect(login.body).toMatchObject({ mfaEnrolmentRequired: true, mustChangePassword: false });
    expect((await json(await get('/api/v1/users', login.body.token))).body.error.code).toBe('MFA_ENROLMENT_REQUIRED');
    const me = await json(await get('/api/v1/auth/me', login.body.token));
    expect(me.body).toMatchObject({ user: { username: 'admin@acme.example', roles: ['tenant-admin'] }, tenant: { id: tenant.id, slug: 'acme' } });
    expect((await post('/api/v1/auth/logout', {}, login.body.token)).status).toBe(204);
    expect((await get('/api/v1/auth/me', login.body.token)).status).toBe(401);
  });

  it('an operator token from the CLI works on /ops/v1/tenants', async () => {
    const created = cli('operator', 'token', 'create', '--json');
    expect(created.code).toBe(0);
    const { token } = JSON.parse(created.stdout);
    secrets.push(token);
    operatorToken = token;
    expect(token).toMatch(/^cso_/);
    const list = await json(await get('/ops/v1/tenants', token));
    expect(list.body.tenants.map((t: { slug: string }) => t.slug)).toContain('acme');
    expect((await get('/ops/v1/tenants')).status).toBe(401);
  });

  it('the tenant CLI refuses bad slugs, duplicates and an unconfirmed delete with clear messages', () => {
    const bad = cli('tenant', 'create', 'Bad_Slug', '--admin-email', 'a@b.example');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('3 to 32 characters');
    const dup = cli('tenant', 'create', 'acme', '--admin-email', 'a@b.example');
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('TENANT_EXISTS');
    const unconfirmed = cli('tenant', 'delete', 'acme');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(cli('tenant', 'suspend', 'nope-nope').stderr).toContain('TENANT_NOT_FOUND');
  });

  it('a warm token is refused on its very next request after the CLI suspends its tenant', async () => {
    const created = cliJson('tenant', 'create', 'warm', '--admin-email', 'a@warm.example');
    secrets.push(created.activation.token);
    await post('/api/v1/auth/activate', { tenant: 'warm', token: created.activation.token, password: PASSWORD });
    const login = await json(await post('/api/v1/auth/login', { tenant: 'warm', username: 'a@warm.example', password: PASSWORD }));
    secrets.push(login.body.token);
    for (let i = 0; i < 5; i++) expect((await get('/api/v1/auth/me', login.body.token)).status).toBe(200);
    expect(cli('tenant', 'suspend', 'warm').code).toBe(0);
    expect((await get('/api/v1/auth/me', login.body.token)).status).toBe(401);
  });

  it('suspend, resume and delete from the CLI', async () => {
    const created = cliJson('tenant', 'create', 'shortlived', '--admin-email', 'a@b.example');
    secrets.push(created.activation.token);
    expect(cli('tenant', 'suspend', 'shortlived').stdout).toContain('Suspended');
    expect(cliJson('tenant', 'list').tenants.find((t: { slug: string }) => t.slug === 'shortlived').status).toBe('suspended');
    expect(cli('tenant', 'resume', 'shortlived').stdout).toContain('Resumed');
    expect(cli('tenant', 'delete', 'shortlived', '--yes').code).toBe(0);
    expect(cli('tenant', 'list').stdout).not.toContain('shortlived');
    expect(await withDb(async ({ db }) => (await db.selectFrom('tenant_keys').select('tenant_id').where('tenant_id', '=', created.tenant.id).execute()).length)).toBe(0);
  });

  it('audit verify exits 0 when intact and 1 naming the event edited, deleted or reordered with raw SQL', async () => {
    const created = cliJson('tenant', 'create', 'tamper', '--admin-email', 'a@b.example');
    secrets.push(created.activation.token);
    for (let i = 0; i < 3; i++) await post('/api/v1/auth/login', { tenant: 'tamper', username: 'x@b.example', password: 'wrong password!' });
    const intact = cli('audit', 'verify', '--tenant', 'tamper');
    expect(intact.code).toBe(0);
    expect(intact.stdout).toContain('intact');
    const id = created.tenant.id as string;
    await withDb(({ db }) => sql`update audit_events set details = '{"username":"someone-else"}' where tenant_id = ${id} and seq = 3`.execute(db));
    const edited = cli('audit', 'verify', '--tenant', 'tamper', '--json');
    expect(edited.code).toBe(1);
    expect(JSON.parse(edited.stdout).problem).toMatchObject({ seq: 3, reason: 'altered' });
    await withDb(({ db }) => sql`delete from audit_events where tenant_id = ${id} and seq = 3`.execute(db));
    const deleted = cli('audit', 'verify', '--tenant', 'tamper');
    expect(deleted.code).toBe(1);
    expect(deleted.stdout).toContain('event #3 is missing');
    expect(cli('audit', 'verify', '--system').code).toBe(0);
  });

  it('refuses to start with the wrong root key, naming the problem, and changes nothing', async () => {
    logs.push(server.output());
    await server.stop();
    const refused = await failedStart({ ...env, CUSTOS_ROOT_KEY: randomBytes(32).toString('base64') });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain("is not this database's current root key");
    expect(refused.output).not.toMatch(/at .*\.ts:\d+/);
    const garbage = await failedStart({ ...env, CUSTOS_ROOT_KEY: 'too-short' });
    expect(garbage.output).toContain('not base64 of exactly 32 bytes');
    await restart();
    expect((await get('/v1/ready')).status).toBe(200);
  });

  it('refuses a database whose schema is newer than itself', async () => {
    logs.push(server.output());
    await server.stop();
    await withDb(({ db }) => sql`insert into kysely_migration (name, timestamp) values ('9000_future', '2030-01-01T00:00:00.000Z')`.execute(db));
    const refused = await failedStart(env);
    expect(refused.output).toContain('newer than this Custos release');
    const status = cli('migrate', 'status');
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('9000_future');
    await withDb(({ db }) => sql`delete from kysely_migration where name = '9000_future'`.execute(db));
    expect(cli('migrate', 'status').stdout).toMatch(/0001_foundation\s+\d{4}-/);
    expect(cli('migrate', 'up').stdout).toContain('nothing to apply');
    await restart();
  });

  it('root-key rotate re-wraps every data key; the server starts with the new key and refuses the old one', async () => {
    logs.push(server.output());
    await server.stop();
    const oldKey = readFileSync(path.join(dataDir, 'root.key'), 'utf8').trim();
    const rotated = cli('root-key', 'rotate');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toContain('Rotated the root key');
    const newKey = readFileSync(path.join(dataDir, 'root.key'), 'utf8').trim();
    secrets.push(newKey);
    expect(newKey).not.toBe(oldKey);
    expect((await failedStart({ ...env, CUSTOS_ROOT_KEY: oldKey })).output).toContain("is not this database's current root key");
    await restart();
    const login = await json(await post('/api/v1/auth/login', { tenant: 'acme', username: 'admin@acme.example', password: PASSWORD }));
    expect(login.status).toBe(200);
    secrets.push(login.body.token);
    expect(cli('audit', 'verify', '--tenant', 'acme').code).toBe(0);
  });

  it('a server running through a root-key rotation picks up the new key and never wraps with the old one', async () => {
    expect(cli('root-key', 'rotate').code).toBe(0);
    secrets.push(readFileSync(path.join(dataDir, 'root.key'), 'utf8').trim());
    const created = await json(await post('/ops/v1/tenants', { slug: 'after-rotation', adminEmail: 'a@b.example' }, operatorToken));
    expect(created.status).toBe(201);
    secrets.push(created.body.activation.token);
    expect((await get('/v1/ready')).status).toBe(200);
    await expect.poll(() => server.output(), { timeout: 5000 }).toContain('now using the new key file');
    expect(cli('audit', 'verify', '--tenant', 'after-rotation').code).toBe(0);
    await restart();
    const activated = await post('/api/v1/auth/activate', { tenant: 'after-rotation', token: created.body.activation.token, password: PASSWORD });
    expect(activated.status).toBe(200);
  });

  it('drains in-flight requests on SIGTERM and exits 0', async () => {
    const received = () => server.output().split('\n').filter((l) => l.includes('incoming request') && l.includes('/api/v1/auth/login')).length;
    const before = received();
    const inflight = Array.from({ length: 4 }, () => post('/api/v1/auth/login', { tenant: 'acme', username: 'admin@acme.example', password: PASSWORD }));
    // Signal only once the server has all four: they are then in flight (argon2 takes tens of milliseconds).
    const deadline = Date.now() + 10_000;
    while (received() < before + 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
    const code = server.stop('SIGTERM');
    const statuses = await Promise.all(inflight.map(async (p) => (await p).status));
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(await code).toBe(0);
    expect(server.output()).toContain('shutting down');
  });

  it('no password, token or key appears in any log line', () => {
    logs.push(server.output());
    const all = logs.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    for (const secret of secrets) expect(all, `a secret reached the logs`).not.toContain(secret);
    expect(all).toContain('"url":"/api/v1/auth/login"');
  });
});
