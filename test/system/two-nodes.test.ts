import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/main/app.js';
import { loadConfig } from '../../src/main/config.js';
import { openRuntime, type Runtime } from '../../src/main/runtime.js';
import type { HttpApp } from '../../src/platform/http/create-app.js';
import { createLogger } from '../../src/platform/log.js';
import { ADMIN_PASSWORD } from '../support/app.js';
import { createTestDatabase, dialects, type TestDatabase } from '../support/databases.js';

/** Two nodes: separate runtimes (pools, caches, keyrings) over one PostgreSQL database, as behind a load balancer. */
describe.skipIf(!dialects.includes('postgres'))('two nodes on one PostgreSQL database', () => {
  let target: TestDatabase;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'custos-nodes-'));
  const nodes: { runtime: Runtime; app: HttpApp }[] = [];
  const rootKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    target = await createTestDatabase('postgres');
    for (let i = 0; i < 2; i++) {
      const config = loadConfig({ dataDir: path.join(dataDir, `node-${i}`), databaseUrl: target.postgresUrl }, { CUSTOS_ROOT_KEY: rootKey });
      const log = createLogger({ level: 'silent' });
      const runtime = await openRuntime(config, { migrate: true, log });
      const app = await buildApp({ services: runtime.services, log, version: 'test', checks: {}, loginRateLimit: { max: 1000, windowMs: 60_000 } });
      await runtime.signals.start();
      nodes.push({ runtime, app });
    }
  });
  afterAll(async () => {
    for (const node of nodes) {
      await node.app.close();
      await node.runtime.close();
    }
    await target.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a user deactivated through node A is refused by node B on its next request', async () => {
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    const operator = await a.runtime.services.operators.createToken({ kind: 'operator', id: 'test', ip: null });
    const created = (await a.app.inject({ method: 'POST', url: '/ops/v1/tenants', headers: { authorization: `Bearer ${operator.token}` }, payload: { slug: 'two-nodes', adminEmail: 'admin@two.example' } })).json();
    await b.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'two-nodes', token: created.activation.token, password: ADMIN_PASSWORD } });
    const admin = (await a.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'two-nodes', username: 'admin@two.example', password: ADMIN_PASSWORD } })).json().token;
    // The policy requires an administrator's second factor: enrol as a real admin would, oathtool standing in for the app.
    const { secret } = (await b.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/enroll', headers: { authorization: `Bearer ${admin}` } })).json();
    const code = execFileSync('oathtool', ['--totp', '-b', secret], { encoding: 'utf8' }).trim();
    expect((await a.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: { authorization: `Bearer ${admin}` }, payload: { code } })).statusCode).toBe(200);
    const user = (await a.app.inject({ method: 'POST', url: '/api/v1/users', headers: { authorization: `Bearer ${admin}` }, payload: { username: 'leaver', email: 'l@two.example' } })).json();
    await b.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'two-nodes', token: user.activation.token, password: 'a leaver password' } });
    const token = (await b.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'two-nodes', username: 'leaver', password: 'a leaver password' } })).json().token;
    const me = (node: typeof a) => node.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });
    expect((await me(b)).statusCode).toBe(200);
    expect((await me(a)).statusCode).toBe(200);
    const started = Date.now();
    expect((await a.app.inject({ method: 'PATCH', url: `/api/v1/users/${user.user.id}`, headers: { authorization: `Bearer ${admin}` }, payload: { status: 'inactive' } })).statusCode).toBe(200);
    const refused = await me(b);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe('SESSION_REVOKED');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("a tenant deleted through node A leaves no unwrapped key in node B's memory", async () => {
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    const operator = await a.runtime.services.operators.createToken({ kind: 'operator', id: 'test', ip: null });
    const created = (await a.app.inject({ method: 'POST', url: '/ops/v1/tenants', headers: { authorization: `Bearer ${operator.token}` }, payload: { slug: 'shredded', adminEmail: 'admin@shredded.example' } })).json();
    const context = { tenantId: created.tenant.id as string, entity: 'test', id: 'x', field: 'f' };
    // Node B unwraps (and caches) the tenant's key.
    await b.runtime.keyring.seal(b.runtime.database.db, context, 'hello');
    expect((await a.app.inject({ method: 'DELETE', url: '/ops/v1/tenants/shredded', headers: { authorization: `Bearer ${operator.token}` } })).statusCode).toBeLessThan(300);
    const started = Date.now();
    let forgotten = false;
    while (!forgotten && Date.now() - started < 1000) {
      forgotten = await b.runtime.keyring.seal(b.runtime.database.db, context, 'hello').then(() => false, () => true);
      if (!forgotten) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(forgotten).toBe(true);
  });
});
