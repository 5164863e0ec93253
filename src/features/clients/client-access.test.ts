import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

const HOUR = 3600_000;

describe.each(dialects)('API client tokens on /api/v1 on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect, { trustedProxies: ['127.0.0.1'] });
    admin = await t.tenantWithAdmin('access-a');
    other = await t.tenantWithAdmin('access-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, token: string, payload?: object, headers: Record<string, string> = {}) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: { ...bearer(token), ...headers }, ...(payload ? { payload } : {}) });
  /** Creates a client as a tenant's admin (or any caller); answers its ids and secret. */
  async function client(body: object, by: { token: string } = admin) {
    const res = await call('POST', '/clients', by.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().client.id as string, clientId: res.json().client.clientId as string, secret: res.json().clientSecret as string };
  }
  /** Requests a token with client_secret_post, optionally narrowed and from another source address. */
  async function tokenFor(c: { clientId: string; secret: string }, options: { scope?: string; ip?: string } = {}) {
    const res = await t.app.inject({
      method: 'POST', url: '/api/v1/oauth2/token', headers: options.ip ? { 'x-forwarded-for': options.ip } : {},
      payload: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.secret, ...(options.scope ? { scope: options.scope } : {}) },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().access_token as string;
  }
  const expectRefused = (res: { statusCode: number; json: () => { error: { code: string } } }, status: number, code: string) => {
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
  };

  it('a client token reaches routes within its scopes and gets 403 FORBIDDEN outside them', async () => {
    const c = await client({ name: 'Directory reader', scopes: ['identity.users.read'] });
    const token = await tokenFor(c);
    const users = await call('GET', '/users', token);
    expect(users.statusCode, users.body).toBe(200);
    expect(users.json().users.map((u: { username: string }) => u.username)).toContain(admin.username);
    expectRefused(await call('GET', '/settings/network', token), 403, 'FORBIDDEN');
    expectRefused(await call('POST', '/users', token, { username: 'by-client', email: 'c@x.example' }), 403, 'FORBIDDEN');
    expectRefused(await call('GET', '/clients', token), 403, 'FORBIDDEN');
  });

  it('a provisioning client creates users, grants only roles within its scopes, and deactivates through the one path', async () => {
    const c = await client({ name: 'HR feed', scopes: ['identity.users.read', 'identity.users.write', 'identity.users.deactivate'] });
    const token = await tokenFor(c);
    const created = await call('POST', '/users', token, { username: 'hired', email: 'hired@x.example' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().activation.url).toContain('tenant=access-a');
    const id = created.json().user.id as string;
    expectRefused(await call('PATCH', `/users/${id}`, token, { roles: ['auditor'] }), 403, 'PERMISSION_NOT_HELD');
    const deactivated = await call('PATCH', `/users/${id}`, token, { status: 'inactive' });
    expect(deactivated.statusCode, deactivated.body).toBe(200);
    expect(deactivated.json().user.status).toBe('inactive');
    const event = await t.runtime.database.db.selectFrom('audit_events').select(['actor_kind', 'actor_id']).where('tenant_id', '=', admin.id).where('action', '=', 'user.deactivated').where('target_id', '=', id).executeTakeFirstOrThrow();
    expect(event.actor_kind).toBe('client');
  });

  it('a token holds only the scopes it was issued with, and never more than its client holds now', async () => {
    const c = await client({ name: 'Two scopes', scopes: ['identity.users.read', 'settings.network.read'] });
    const narrow = await tokenFor(c, { scope: 'settings.network.read' });
    expect((await call('GET', '/settings/network', narrow)).statusCode).toBe(200);
    expectRefused(await call('GET', '/users', narrow), 403, 'FORBIDDEN');
    const full = await tokenFor(c);
    expect((await call('GET', '/users', full)).statusCode).toBe(200);
    expect((await call('PATCH', `/clients/${c.id}`, admin.token, { scopes: ['settings.network.read'] })).statusCode).toBe(200);
    expectRefused(await call('GET', '/users', full), 403, 'FORBIDDEN');
    expect((await call('GET', '/settings/network', full)).statusCode).toBe(200);
  });

  it("routes that act on a user's own account refuse a client token with 403 USER_REQUIRED", async () => {
    const c = await client({ name: 'Not a person', scopes: ['identity.users.read'] });
    const token = await tokenFor(c);
    for (const [method, url, payload] of [
      ['GET', '/auth/me'],
      ['POST', '/auth/logout'],
      ['POST', '/auth/password', { currentPassword: 'whatever it is', newPassword: 'a brand new password' }],
      ['POST', '/auth/mfa/totp/enroll'],
      ['POST', '/auth/mfa/totp/confirm', { code: '123456' }],
      ['POST', '/auth/mfa/totp/disable', { password: 'whatever it is' }],
    ] as const) {
      expectRefused(await call(method, url, token, payload), 403, 'USER_REQUIRED');
    }
    expect((await call('GET', '/users', token)).statusCode).toBe(200);
  });

  it("deactivating a client revokes its tokens on the next request; reactivating brings none back", async () => {
    const c = await client({ name: 'Switched off', scopes: ['identity.users.read'] });
    const token = await tokenFor(c);
    expect((await call('GET', '/users', token)).statusCode).toBe(200);
    const off = await call('PATCH', `/clients/${c.id}`, admin.token, { status: 'inactive' });
    expect(off.statusCode).toBe(200);
    expectRefused(await call('GET', '/users', token), 401, 'TOKEN_REVOKED');
    const event = await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'client.deactivated').where('target_id', '=', c.id).executeTakeFirstOrThrow();
    expect(JSON.parse(event.details)).toEqual({ clientId: c.clientId, tokensRevoked: 1 });
    expect((await call('PATCH', `/clients/${c.id}`, admin.token, { status: 'active' })).statusCode).toBe(200);
    expectRefused(await call('GET', '/users', token), 401, 'TOKEN_REVOKED');
    expect((await call('GET', '/users', await tokenFor(c))).statusCode).toBe(200);
  });

  it('rotating the secret stops the old secret and every token at once; the new secret works', async () => {
    const c = await client({ name: 'Rotated', scopes: ['identity.users.read'] });
    const tokens = [await tokenFor(c), await tokenFor(c)];
    const rotated = await call('POST', `/clients/${c.id}/secret`, admin.token);
    expect(rotated.statusCode).toBe(200);
    const secret = rotated.json().clientSecret as string;
    expect(secret).not.toBe(c.secret);
    for (const token of tokens) expectRefused(await call('GET', '/users', token), 401, 'TOKEN_REVOKED');
    const old = await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', payload: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.secret } });
    expect(old.statusCode).toBe(401);
    expect(old.json().error).toBe('invalid_client');
    expect((await call('GET', '/users', await tokenFor({ clientId: c.clientId, secret }))).statusCode).toBe(200);
  });

  it('a token requested while the secret is rotated never outlives the rotation', async () => {
    const c = await client({ name: 'Raced', scopes: ['identity.users.read'] });
    const request = () => t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', payload: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.secret } });
    const results = await Promise.all([...Array.from({ length: 8 }, request), call('POST', `/clients/${c.id}/secret`, admin.token), ...Array.from({ length: 8 }, request)]);
    expect(results[8]!.statusCode).toBe(200);
    const issued = results.filter((r, i) => i !== 8 && r.statusCode === 200).map((r) => r.json().access_token as string);
    for (const token of issued) expect((await call('GET', '/users', token)).statusCode).toBe(401);
    expect(results.filter((r, i) => i !== 8 && r.statusCode !== 200).every((r) => r.json().error === 'invalid_client')).toBe(true);
  });

  it('deleting a client ends its tokens: the next request is 401', async () => {
    const c = await client({ name: 'Deleted', scopes: ['identity.users.read'] });
    const token = await tokenFor(c);
    expect((await call('DELETE', `/clients/${c.id}`, admin.token)).statusCode).toBe(204);
    expectRefused(await call('GET', '/users', token), 401, 'UNAUTHENTICATED');
    const left = await t.runtime.database.db.selectFrom('client_tokens').select('id').where('tenant_id', '=', admin.id).where('client_id', '=', c.id).execute();
    expect(left).toEqual([]);
  });

  it("the client's allowedCidrs and the tenant's allowlist are checked again on every request", async () => {
    const c = await client({ name: 'Ranged', scopes: ['identity.users.read', 'settings.network.read'], allowedCidrs: ['203.0.113.0/24', '2001:db8::/32'] });
    const token = await tokenFor(c, { ip: '203.0.113.5' });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    expect((await call('GET', '/users', token, undefined, from('203.0.113.77'))).statusCode).toBe(200);
    expectRefused(await call('GET', '/users', token, undefined, from('198.51.100.1')), 403, 'CLIENT_NETWORK_NOT_ALLOWED');
    expectRefused(await call('GET', '/users', token), 403, 'CLIENT_NETWORK_NOT_ALLOWED');
    const put = await call('PUT', '/settings/network', admin.token, { allowedCidrs: ['2001:db8::/32'], force: true });
    expect(put.statusCode, put.body).toBe(200);
    expectRefused(await call('GET', '/users', token, undefined, from('203.0.113.77')), 403, 'NETWORK_NOT_ALLOWED');
    expect((await call('GET', '/users', token, undefined, from('2001:db8::9'))).statusCode).toBe(200);
    expect((await call('PUT', '/settings/network', admin.token, { allowedCidrs: [] }, from('2001:db8::1'))).statusCode).toBe(200);
  });

  it("a suspended tenant's client tokens are refused with 403 TENANT_SUSPENDED", async () => {
    const tenant = await t.tenantWithAdmin('access-suspended');
    const c = await client({ name: 'Suspended', scopes: ['identity.users.read'] }, tenant);
    const token = await tokenFor(c);
    expect((await t.app.inject({ method: 'POST', url: '/ops/v1/tenants/access-suspended/suspend', headers: bearer(t.operatorToken) })).statusCode).toBe(200);
    expectRefused(await call('GET', '/users', token), 403, 'TENANT_SUSPENDED');
  });

  it("a client token sees only its own tenant: another tenant's client is 404", async () => {
    const mine = await client({ name: 'Cross reader', scopes: ['identity.clients.read', 'identity.users.read'] });
    const theirs = await client({ name: 'Theirs', scopes: ['identity.users.read'] }, other);
    const token = await tokenFor(mine);
    expectRefused(await call('GET', `/clients/${theirs.id}`, token), 404, 'CLIENT_NOT_FOUND');
    expect((await call('GET', `/clients/${mine.id}`, token)).statusCode).toBe(200);
    const usernames = (await call('GET', '/users', token)).json().users.map((u: { username: string }) => u.username);
    expect(usernames).toContain(admin.username);
    expect(usernames).not.toContain(other.username);
  });

  it('a client with identity.clients.write hands out only scopes its token holds, and its changes are audited as the client', async () => {
    const manager = await client({ name: 'Manager app', scopes: ['identity.clients.write', 'identity.clients.read', 'identity.users.read', 'settings.network.read'] });
    const token = await tokenFor(manager, { scope: 'identity.clients.write identity.users.read' });
    expectRefused(await call('POST', '/clients', token, { name: 'Child', scopes: ['settings.network.read'] }), 403, 'SCOPE_NOT_HELD');
    const child = await call('POST', '/clients', token, { name: 'Child', scopes: ['identity.users.read'] });
    expect(child.statusCode, child.body).toBe(201);
    expect(child.json().client.createdBy).toBe(manager.id);
    const event = await t.runtime.database.db.selectFrom('audit_events').select(['actor_kind', 'actor_id']).where('tenant_id', '=', admin.id).where('action', '=', 'client.created').where('target_id', '=', child.json().client.id).executeTakeFirstOrThrow();
    expect(event).toEqual({ actor_kind: 'client', actor_id: manager.id });
  });

  it('tokens are stored only as SHA-256 hashes: no table holds a token or a secret', async () => {
    const c = await client({ name: 'Dumped', scopes: ['identity.users.read'] });
    const token = await tokenFor(c);
    expect((await call('GET', '/users', token)).statusCode).toBe(200);
    for (const table of ['client_tokens', 'api_clients', 'audit_events', 'sessions'] as const) {
      const dump = JSON.stringify(await t.runtime.database.db.selectFrom(table).selectAll().execute());
      expect(dump, table).not.toContain(token.slice(4));
      expect(dump, table).not.toContain(c.secret.slice(4));
    }
  });

  it('an unknown or malformed client token is 401 UNAUTHENTICATED', async () => {
    expectRefused(await call('GET', '/users', `cct_${'A'.repeat(43)}`), 401, 'UNAUTHENTICATED');
    expectRefused(await call('GET', '/users', 'cct_'), 401, 'UNAUTHENTICATED');
  });

  // Last: it moves the clock past the sessions' idle timeout.
  it('a token expires one hour after it was issued; a client whose expiry passes is refused on the next request', async () => {
    const expiring = await client({ name: 'Expiring', scopes: ['identity.users.read'] });
    const early = await tokenFor(expiring);
    const expiry = new Date(t.clock.now() + 10 * 60_000).toISOString();
    expect((await call('PATCH', `/clients/${expiring.id}`, admin.token, { expiresAt: expiry })).statusCode).toBe(200);
    expect((await call('GET', '/users', early)).statusCode).toBe(200);
    t.clock.advance(10 * 60_000);
    expectRefused(await call('GET', '/users', early), 401, 'CLIENT_EXPIRED');

    const c = await client({ name: 'Hourly', scopes: ['identity.users.read'] });
    const token = await tokenFor(c);
    t.clock.advance(HOUR - 1000);
    expect((await call('GET', '/users', token)).statusCode).toBe(200);
    t.clock.advance(1000);
    expectRefused(await call('GET', '/users', token), 401, 'TOKEN_EXPIRED');
    expect((await call('GET', '/users', await tokenFor(c))).statusCode).toBe(200);
  });
});
