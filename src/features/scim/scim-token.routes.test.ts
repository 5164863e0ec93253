import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser } from '../../../test/support/users.js';
import { hashToken } from '../../platform/crypto/tokens.js';
import { auditEvents, createScimToken, scim } from './fixtures/support.js';

describe.each(dialects)('SCIM token on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('scim-token-a');
  });
  afterAll(async () => t.close());

  const api = (method: 'GET' | 'POST' | 'DELETE', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const tokenRows = (tenantId = admin.id) => t.runtime.database.db.selectFrom('scim_tokens').selectAll().where('tenant_id', '=', tenantId).execute();
  const usersOk = (token: string) => scim(t, token, 'GET', '/Users', { query: { count: '1' } });

  it('POST answers the token once (201); GET tells it exists, when made and where to send requests, never the token', async () => {
    expect((await api('GET', '/settings/scim', admin.token)).json()).toEqual({ configured: false, createdAt: null, lastUsedAt: null, endpoint: expect.stringMatching(/^https?:\/\/.+\/scim\/v2$/) });
    const created = await api('POST', '/settings/scim/token', admin.token);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { token, createdAt } = created.json();
    expect(Object.keys(created.json()).sort()).toEqual(['createdAt', 'token']);
    expect(token).toMatch(/^csp_[A-Za-z0-9_-]{43}$/);
    const status = await api('GET', '/settings/scim', admin.token);
    expect(status.json()).toMatchObject({ configured: true, createdAt, lastUsedAt: null });
    expect(status.json().endpoint).toMatch(/\/scim\/v2$/);
    expect(status.body).not.toContain(token);
    expect((await usersOk(token)).statusCode).toBe(200);
  });

  it('records the last use, at most once a minute', async () => {
    const token = await createScimToken(t, admin);
    await usersOk(token);
    const first = (await api('GET', '/settings/scim', admin.token)).json().lastUsedAt;
    expect(first).toBe(new Date(t.clock.now()).toISOString());
    t.clock.advance(30_000);
    await usersOk(token);
    expect((await api('GET', '/settings/scim', admin.token)).json().lastUsedAt).toBe(first);
    t.clock.advance(31_000);
    await usersOk(token);
    expect((await api('GET', '/settings/scim', admin.token)).json().lastUsedAt).toBe(new Date(t.clock.now()).toISOString());
  });

  it('a new token replaces the previous one, which answers 401 at once; both changes are audited', async () => {
    const old = await createScimToken(t, admin);
    const oldId = (await tokenRows())[0]!.id;
    const fresh = await createScimToken(t, admin);
    expect(await tokenRows()).toHaveLength(1);
    const refused = await usersOk(old);
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    expect((await usersOk(fresh)).statusCode).toBe(200);
    const events = await auditEvents(t, admin.id, 'scim.token.');
    const last = events[events.length - 1]!;
    expect(last).toMatchObject({ action: 'scim.token.created', actor_kind: 'user', details: { replacedTokenId: oldId } });
    expect(last.details.tokenId).toBe((await tokenRows())[0]!.id);
  });

  it('DELETE revokes: the token answers 401 from the next request; a second DELETE answers 404', async () => {
    const token = await createScimToken(t, admin);
    const id = (await tokenRows())[0]!.id;
    const revoked = await api('DELETE', '/settings/scim/token', admin.token);
    expect(revoked.statusCode, revoked.body).toBe(204);
    expect((await usersOk(token)).statusCode).toBe(401);
    expect((await api('GET', '/settings/scim', admin.token)).json()).toMatchObject({ configured: false, createdAt: null });
    const again = await api('DELETE', '/settings/scim/token', admin.token);
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('SCIM_TOKEN_NOT_FOUND');
    const events = await auditEvents(t, admin.id, 'scim.token.revoked');
    expect(events[events.length - 1]).toMatchObject({ target_id: id, details: { tokenId: id } });
  });

  it('only a caller holding every permission may connect a directory (it could provision anyone into any group)', async () => {
    const role = await api('POST', '/roles', admin.token, { name: 'scim-only-admin', permissions: ['settings.scim.read', 'settings.scim.write'] });
    expect(role.statusCode, role.body).toBe(201);
    const narrow = await activeUser(t, admin, 'scim-narrow', ['scim-only-admin']);
    const before = await tokenRows();
    const res = await api('POST', '/settings/scim/token', narrow.token);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('PERMISSION_NOT_HELD');
    expect(await tokenRows()).toEqual(before);
  });

  it('a SCIM token cannot call /api/v1 or /ops/v1 (401), and no other token reaches /scim/v2', async () => {
    const token = await createScimToken(t, admin);
    for (const url of ['/api/v1/auth/me', '/api/v1/users', '/api/v1/settings/scim', '/ops/v1/tenants']) {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(token) });
      expect(res.statusCode, url).toBe(401);
    }
    for (const other of [admin.token, t.operatorToken, `csp_${'A'.repeat(43)}`, 'not-a-token']) {
      const res = await usersOk(other);
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '401' });
    }
    const missing = await t.app.inject({ method: 'GET', url: '/scim/v2/Users' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().detail).toMatch(/POST \/api\/v1\/settings\/scim\/token/);
  });

  it('the token is stored only as its SHA-256: no table, audit event or answer holds it', async () => {
    const token = await createScimToken(t, admin);
    await usersOk(token);
    expect((await tokenRows())[0]!.token_hash).toBe(hashToken(token));
    const db = t.runtime.database.db;
    for (const table of await db.introspection.getTables()) {
      const rows = await db.selectFrom(table.name as 'users').selectAll().execute();
      expect(JSON.stringify(rows), table.name).not.toContain(token.slice(4));
    }
  });

  it('permissions: settings.scim.read shows the status (auditor), settings.scim.write with every other permission creates and revokes (tenant-admin, not security-admin); others get 403', async () => {
    const plain = await activeUser(t, admin, 'scim-plain');
    const auditor = await activeUser(t, admin, 'scim-auditor', ['auditor']);
    const secAdmin = await activeUser(t, admin, 'scim-secadmin', ['security-admin']);
    const tenantAdmin = await activeUser(t, admin, 'scim-tenantadmin', ['tenant-admin']);
    const before = await tokenRows();
    for (const [method, url] of [['GET', '/settings/scim'], ['POST', '/settings/scim/token'], ['DELETE', '/settings/scim/token']] as const) {
      const res = await api(method, url, plain.token);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect((await api('GET', '/settings/scim', auditor.token)).statusCode).toBe(200);
    expect((await api('POST', '/settings/scim/token', auditor.token)).statusCode).toBe(403);
    expect((await api('DELETE', '/settings/scim/token', auditor.token)).statusCode).toBe(403);
    expect(await tokenRows()).toEqual(before);
    // A SCIM token provisions anyone into any group: a security-admin, who lacks the vault permissions, may not issue one.
    const notEverything = await api('POST', '/settings/scim/token', secAdmin.token);
    expect(notEverything.statusCode).toBe(403);
    expect(notEverything.json().error.code).toBe('PERMISSION_NOT_HELD');
    expect(await tokenRows()).toEqual(before);
    const created = await api('POST', '/settings/scim/token', tenantAdmin.token);
    expect(created.statusCode).toBe(201);
    expect((await api('DELETE', '/settings/scim/token', tenantAdmin.token)).statusCode).toBe(204);
  });

  it('refuses a body with unknown fields (400) and writes nothing', async () => {
    const before = await tokenRows();
    const res = await api('POST', '/settings/scim/token', admin.token, { name: 'okta' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(await tokenRows()).toEqual(before);
  });

  it("each tenant's token is its own: creating one in another tenant leaves this one working", async () => {
    const other = await t.tenantWithAdmin('scim-token-b');
    const mine = await createScimToken(t, admin);
    const theirs = await createScimToken(t, other);
    expect((await usersOk(mine)).statusCode).toBe(200);
    expect((await usersOk(theirs)).statusCode).toBe(200);
    expect((await api('GET', '/settings/scim', other.token)).json().configured).toBe(true);
    await api('DELETE', '/settings/scim/token', other.token);
    expect((await usersOk(mine)).statusCode).toBe(200);
  });

  it("the tenant's network allowlist and suspension apply to SCIM requests (403)", async () => {
    const tenant = await t.tenantWithAdmin('scim-token-net');
    const token = await createScimToken(t, tenant);
    const put = await t.app.inject({ method: 'PUT', url: '/api/v1/settings/network', headers: bearer(tenant.token), payload: { allowedCidrs: ['203.0.113.0/24'], force: true } });
    expect(put.statusCode, put.body).toBe(200);
    const outside = await usersOk(token);
    expect(outside.statusCode).toBe(403);
    expect(outside.json()).toMatchObject({ status: '403', detail: expect.stringMatching(/allowlist/) });
    const inside = await t.app.inject({ method: 'GET', url: '/scim/v2/Users', headers: bearer(token), remoteAddress: '203.0.113.9' });
    expect(inside.statusCode).toBe(200);
    const suspended = await t.app.inject({ method: 'POST', url: `/ops/v1/tenants/${tenant.slug}/suspend`, headers: bearer(t.operatorToken) });
    expect(suspended.statusCode, suspended.body).toBe(200);
    const refused = await t.app.inject({ method: 'GET', url: '/scim/v2/Users', headers: bearer(token), remoteAddress: '203.0.113.9' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toMatch(/suspended/);
  });
});
