import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../test/support/app.js';

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

  it('/v1/health answers liveness without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/v1/health' });
    expect(res.json()).toEqual({ status: 'ok', version: 'test' });
  });
});
