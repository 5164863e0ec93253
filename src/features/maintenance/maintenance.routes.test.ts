import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { openRuntime } from '../../main/runtime.js';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { createLogger } from '../../platform/log.js';

describe.each(dialects)('maintenance mode on %s', (dialect) => {
  let t: TestApp;
  let tenantToken: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    tenantToken = (await t.tenantWithAdmin('maint')).token;
  });
  afterAll(() => t.close());

  const ops = (method: 'GET' | 'PUT', payload?: object, token = t.operatorToken) => t.app.inject({ method, url: '/ops/v1/maintenance', headers: bearer(token), ...(payload ? { payload } : {}) });
  const me = () => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tenantToken) });

  it('while on, tenant requests (signed in or not, SCIM too) answer 503 MAINTENANCE with Retry-After; the operator plane and health keep working', async () => {
    expect((await me()).statusCode).toBe(200);
    const on = await ops('PUT', { enabled: true, message: 'Upgrading to 0.2', retryAfterSeconds: 120 });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json().maintenance).toMatchObject({ enabled: true, message: 'Upgrading to 0.2', retryAfterSeconds: 120, since: expect.any(String) });
    for (const res of [await me(), await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'maint', username: 'x', password: 'y' } }), await t.app.inject({ method: 'GET', url: '/scim/v2/Users' })]) {
      expect([res.statusCode, res.headers['retry-after'], res.json().error.code]).toEqual([503, '120', 'MAINTENANCE']);
    }
    expect((await t.app.inject({ method: 'GET', url: '/ops/v1/tenants', headers: bearer(t.operatorToken) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/v1/health' })).statusCode).toBe(200);
    expect((await ops('GET')).json().maintenance.enabled).toBe(true);
    const off = await ops('PUT', { enabled: false });
    expect(off.json().maintenance).toEqual({ enabled: false, message: '', retryAfterSeconds: 0, since: null });
    expect((await me()).statusCode).toBe(200);
    const events = await t.runtime.database.db.selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', SYSTEM_SCOPE).where('action', 'like', 'maintenance.%').orderBy('seq').execute();
    expect(events.map((e) => e.action)).toEqual(['maintenance.enabled', 'maintenance.disabled']);
    expect(JSON.parse(events[0]!.details)).toEqual({ message: 'Upgrading to 0.2', retryAfterSeconds: 120 });
  });

  it('a switch made by another process (the CLI) reaches a running node within a second, and survives its restart', async () => {
    await t.runtime.signals.start();
    const cli = await openRuntime(t.runtime.config, { migrate: false, initialise: false, log: createLogger({ level: 'silent' }) });
    try {
      await cli.services.maintenance.set({ kind: 'operator', id: 'cli:test', ip: null }, { enabled: true });
      const started = Date.now();
      while ((await me()).statusCode !== 503 && Date.now() - started < 3_000) await new Promise((r) => setTimeout(r, 50));
      expect(Date.now() - started).toBeLessThan(1_000);
      // A node that starts now reads the state from the store.
      const another = await openRuntime(t.runtime.config, { migrate: false, initialise: false, log: createLogger({ level: 'silent' }) });
      expect(another.services.maintenance.current()).toMatchObject({ enabled: true, retryAfterSeconds: 300 });
      await another.close();
      await cli.services.maintenance.set({ kind: 'operator', id: 'cli:test', ip: null }, { enabled: false });
      const reopened = Date.now();
      while ((await me()).statusCode !== 200 && Date.now() - reopened < 3_000) await new Promise((r) => setTimeout(r, 50));
      expect((await me()).statusCode).toBe(200);
    } finally {
      await cli.close();
    }
  });

  it('the switch needs an operator token, and bad input answers 400', async () => {
    expect((await ops('PUT', { enabled: true }, tenantToken)).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/ops/v1/maintenance' })).statusCode).toBe(401);
    for (const body of [{}, { enabled: 'yes' }, { enabled: true, retryAfterSeconds: 0 }, { enabled: true, retryAfterSeconds: 1.5 }, { enabled: true, message: '' }, { enabled: true, extra: 1 }]) {
      const res = await ops('PUT', body);
      expect([JSON.stringify(body), res.statusCode]).toEqual([JSON.stringify(body), 400]);
    }
    expect((await ops('GET')).json().maintenance.enabled).toBe(false);
  });
});
