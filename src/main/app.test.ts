import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.js';
import { createLogger } from '../platform/log.js';
import { buildApp } from './app.js';

describe('the public contract', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });
  afterAll(async () => t.close());

  it('/openapi.json documents every route of DESIGN 4 built so far, with its security scheme', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of ['/v1/health', '/v1/ready', '/api/v1/auth/activate', '/api/v1/auth/login', '/api/v1/auth/logout', '/api/v1/auth/me', '/ops/v1/tenants', '/ops/v1/tenants/{tenant}', '/ops/v1/tenants/{tenant}/suspend', '/ops/v1/tenants/{tenant}/resume', '/ops/v1/tenants/{tenant}/admin-activation']) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(doc.paths['/api/v1/auth/me'].get.security).toEqual([{ tenantToken: [] }]);
    expect(doc.paths['/ops/v1/tenants'].post.security).toEqual([{ operatorToken: [] }]);
    expect(doc.paths['/api/v1/auth/login'].post.requestBody.content['application/json'].schema.required).toEqual(['tenant', 'username', 'password']);
  });

  it('/v1/ready answers 503 naming the failing check, and 200 when all pass', async () => {
    const checks = { database: async () => undefined, keys: async () => { throw new Error('the loaded root key does not match the database'); } };
    const app = await buildApp({ services: t.runtime.services, log: createLogger({ level: 'silent' }), version: 'test', checks });
    try {
      const down = await app.inject({ method: 'GET', url: '/v1/ready' });
      expect(down.statusCode).toBe(503);
      expect(down.json()).toEqual({ status: 'unavailable', checks: { database: { status: 'ok' }, keys: { status: 'failed', message: 'the loaded root key does not match the database' } } });
    } finally {
      await app.close();
    }
    const up = await t.app.inject({ method: 'GET', url: '/v1/ready' });
    expect(up.json()).toEqual({ status: 'ready', checks: {} });
  });

  it('/v1/health answers liveness without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/health' });
    expect(res.json()).toEqual({ status: 'ok', version: 'test' });
  });
});
