import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { isAddressAllowed, parseCidr } from './network-policy.js';

describe('network allowlist ranges', () => {
  it('accepts IPv4 and IPv6 addresses and ranges and nothing else', () => {
    for (const good of ['203.0.113.0/24', '10.0.0.1', '2001:db8::/32', '::1', '0.0.0.0/0']) expect(parseCidr(good), good).not.toBeNull();
    for (const bad of ['203.0.113.0/33', '10.0.0', 'example.com', '2001:db8::/129', '10.0.0.0/8/1', '10.0.0.0/', '10.0.0.0/x']) expect(parseCidr(bad), bad).toBeNull();
  });

  it('matches IPv4, IPv4 written as IPv6, and IPv6 addresses', () => {
    const stored = JSON.stringify({ allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'] });
    expect(isAddressAllowed(stored, '10.9.8.7')).toBe(true);
    expect(isAddressAllowed(stored, '::ffff:10.9.8.7')).toBe(true);
    expect(isAddressAllowed(stored, '2001:db8::5')).toBe(true);
    expect(isAddressAllowed(stored, '11.0.0.1')).toBe(false);
    expect(isAddressAllowed(stored, null)).toBe(false);
    expect(isAddressAllowed(JSON.stringify({ allowedCidrs: [] }), '11.0.0.1')).toBe(true);
    expect(isAddressAllowed(null, '11.0.0.1')).toBe(true);
  });
});

describe.each(dialects)('the network allowlist on %s', (dialect) => {
  let t: TestApp;
  let proxied: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    proxied = await createTestApp(dialect, { trustedProxies: ['127.0.0.1'] });
  });
  afterAll(async () => {
    await t.close();
    await proxied.close();
  });

  const put = (app: TestApp, token: string, payload: object, headers: Record<string, string> = {}) =>
    app.app.inject({ method: 'PUT', url: '/api/v1/settings/network', headers: { ...bearer(token), ...headers }, payload });

  it('refuses a list that would cut off the caller, unless forced; then refuses the caller on the next request', async () => {
    const admin = await t.tenantWithAdmin('net-self');
    const refused = await put(t, admin.token, { allowedCidrs: ['198.51.100.0/24'] });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('ALLOWLIST_EXCLUDES_YOU');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/settings/network', headers: bearer(admin.token) })).json()).toEqual({ allowedCidrs: [] });
    expect((await put(t, admin.token, { allowedCidrs: ['198.51.100.0/24'], force: true })).statusCode).toBe(200);
    const next = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(admin.token) });
    expect(next.statusCode).toBe(403);
    expect(next.json().error.code).toBe('NETWORK_NOT_ALLOWED');
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'net-self', username: admin.username, password: ADMIN_PASSWORD } });
    expect(login.json().error.code).toBe('NETWORK_NOT_ALLOWED');
  });

  it('allows callers inside the list and other tenants are unaffected', async () => {
    const admin = await t.tenantWithAdmin('net-in');
    const other = await t.tenantWithAdmin('net-other');
    expect((await put(t, admin.token, { allowedCidrs: ['127.0.0.0/8', '2001:db8::/32'] })).json()).toEqual({ allowedCidrs: ['127.0.0.0/8', '2001:db8::/32'] });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(admin.token) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(other.token) })).statusCode).toBe(200);
    const event = await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'settings.network.updated').executeTakeFirstOrThrow();
    expect(JSON.parse(event.details)).toEqual({ allowedCidrs: ['127.0.0.0/8', '2001:db8::/32'], forced: false });
  });

  it('a spoofed X-Forwarded-For from an untrusted peer does not get around the list', async () => {
    const admin = await t.tenantWithAdmin('net-spoof');
    await put(t, admin.token, { allowedCidrs: ['10.0.0.0/8'], force: true });
    const spoofed = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...bearer(admin.token), 'x-forwarded-for': '10.1.2.3' } });
    expect(spoofed.json().error.code).toBe('NETWORK_NOT_ALLOWED');
  });

  it('behind a proxy the operator trusts, X-Forwarded-For is the client address', async () => {
    const admin = await proxied.tenantWithAdmin('net-proxy');
    const fromOffice = { 'x-forwarded-for': '10.1.2.3' };
    expect((await put(proxied, admin.token, { allowedCidrs: ['10.0.0.0/8'] }, fromOffice)).statusCode).toBe(200);
    expect((await proxied.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...bearer(admin.token), ...fromOffice } })).statusCode).toBe(200);
    expect((await proxied.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...bearer(admin.token), 'x-forwarded-for': '192.0.2.9' } })).json().error.code).toBe('NETWORK_NOT_ALLOWED');
  });

  it('refuses bad ranges, unknown fields and callers without the permission, writing nothing', async () => {
    const admin = await t.tenantWithAdmin('net-bad');
    for (const payload of [{ allowedCidrs: ['not-an-ip'] }, { allowedCidrs: ['10.0.0.0/40'] }, { allowedCidrs: '10.0.0.0/8' }, { allowedCidrs: [], extra: 1 }, {}]) {
      const res = await put(t, admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    const created = (await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(admin.token), payload: { username: 'net-plain', email: 'p@x.example' } })).json();
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'net-bad', token: created.activation.token, password: 'a plain password' } });
    const plain = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'net-bad', username: 'net-plain', password: 'a plain password' } })).json().token;
    expect((await put(t, plain, { allowedCidrs: ['10.0.0.0/8'], force: true })).json().error.code).toBe('FORBIDDEN');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/settings/network', headers: bearer(admin.token) })).json()).toEqual({ allowedCidrs: [] });
  });
});
