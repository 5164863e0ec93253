import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

describe.each(dialects)('tenant authentication on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const activate = (payload: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: payload as object });
  const login = (payload: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: payload as object });
  const me = (token: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
  const countRows = async (table: 'sessions' | 'users') => Number((await t.runtime.database.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('activates the admin once: the token is single use', async () => {
    const tenant = await t.createTenant('act-once');
    const first = await activate({ tenant: 'act-once', token: tenant.activationToken, password: ADMIN_PASSWORD });
    expect(first.statusCode).toBe(200);
    expect(first.json().user).toMatchObject({ username: 'admin@act-once.example', roles: ['tenant-admin'] });
    expect(first.body).not.toContain('hash');
    const again = await activate({ tenant: 'act-once', token: tenant.activationToken, password: ADMIN_PASSWORD });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.code).toBe('ACTIVATION_TOKEN_INVALID');
  });

  it('refuses an activation token after 72 hours', async () => {
    const tenant = await t.createTenant('act-expired');
    t.clock.advance(72 * 3600_000 + 1000);
    const res = await activate({ tenant: 'act-expired', token: tenant.activationToken, password: ADMIN_PASSWORD });
    expect(res.json().error.code).toBe('ACTIVATION_TOKEN_INVALID');
  });

  it('refuses a short password without spending the token', async () => {
    const tenant = await t.createTenant('act-policy');
    const weak = await activate({ tenant: 'act-policy', token: tenant.activationToken, password: 'short-pass' });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error).toMatchObject({ code: 'PASSWORD_POLICY', message: expect.stringContaining('12 characters') });
    const audited = await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', tenant.id).where('action', '=', 'auth.activation.failed').orderBy('seq').execute();
    expect(audited.map((a) => JSON.parse(a.details).reason)).toEqual(['password_policy']);
    expect((await activate({ tenant: 'act-policy', token: tenant.activationToken, password: ADMIN_PASSWORD })).statusCode).toBe(200);
  });

  it("another tenant's activation token does not work here", async () => {
    const a = await t.createTenant('act-a');
    await t.createTenant('act-b');
    const res = await activate({ tenant: 'act-b', token: a.activationToken, password: ADMIN_PASSWORD });
    expect(res.json().error.code).toBe('ACTIVATION_TOKEN_INVALID');
    expect((await activate({ tenant: 'no-such-tenant', token: a.activationToken, password: ADMIN_PASSWORD })).json().error.code).toBe('ACTIVATION_TOKEN_INVALID');
  });

  it('logs in with the admin email as username, case-insensitively, and me shows user, roles and tenant', async () => {
    const admin = await t.tenantWithAdmin('login-ok');
    const upper = await login({ tenant: 'login-ok', username: admin.username.toUpperCase(), password: ADMIN_PASSWORD });
    expect(upper.statusCode).toBe(200);
    expect(upper.json().token).toMatch(/^cst_[A-Za-z0-9_-]{43}$/);
    const res = await me(admin.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      user: { id: expect.any(String), username: admin.username, email: admin.username, roles: ['tenant-admin'] },
      tenant: { id: admin.id, slug: 'login-ok' },
    });
  });

  it('refuses a wrong password, an unknown user and an unknown tenant alike, and audits the failures', async () => {
    const admin = await t.tenantWithAdmin('login-bad');
    for (const attempt of [
      { tenant: 'login-bad', username: admin.username, password: 'wrong password!!' },
      { tenant: 'login-bad', username: 'nobody@example.com', password: ADMIN_PASSWORD },
      { tenant: 'no-such-tenant', username: admin.username, password: ADMIN_PASSWORD },
    ]) {
      const res = await login(attempt);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('INVALID_CREDENTIALS');
    }
    const failures = await t.runtime.database.db.selectFrom('audit_events').select(['details', 'outcome']).where('tenant_id', '=', admin.id).where('action', '=', 'auth.login.failed').orderBy('seq').execute();
    expect(failures.map((f) => JSON.parse(f.details).reason).sort()).toEqual(['unknown_user', 'wrong_password']);
    expect(JSON.stringify(failures)).not.toContain('wrong password!!');
  });

  it("another tenant's user cannot log in here with their own credentials", async () => {
    const a = await t.tenantWithAdmin('cross-a');
    await t.tenantWithAdmin('cross-b');
    const res = await login({ tenant: 'cross-b', username: a.username, password: ADMIN_PASSWORD });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('INVALID_CREDENTIALS');
    const mine = await me(a.token);
    expect(mine.json().tenant.slug).toBe('cross-a');
  });

  it('a pending user cannot log in', async () => {
    const tenant = await t.createTenant('login-pending');
    const res = await login({ tenant: 'login-pending', username: tenant.adminEmail, password: ADMIN_PASSWORD });
    expect(res.statusCode).toBe(401);
  });

  it('requires a valid bearer token for me', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('UNAUTHENTICATED');
    expect((await me('cst_not-a-real-token')).json().error.code).toBe('UNAUTHENTICATED');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
    expect((await me(t.operatorToken)).statusCode).toBe(401);
  });

  it('ends a session idle for 30 minutes, and keeps an active one alive', async () => {
    const admin = await t.tenantWithAdmin('idle');
    t.clock.advance(20 * 60_000);
    expect((await me(admin.token)).statusCode).toBe(200);
    t.clock.advance(20 * 60_000);
    expect((await me(admin.token)).statusCode).toBe(200);
    t.clock.advance(31 * 60_000);
    const expired = await me(admin.token);
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.code).toBe('SESSION_EXPIRED');
  });

  it('ends every session after 12 hours, however active', async () => {
    const admin = await t.tenantWithAdmin('absolute');
    for (let elapsed = 0; elapsed < 12 * 60; elapsed += 25) {
      expect((await me(admin.token)).statusCode).toBe(200);
      t.clock.advance(25 * 60_000);
    }
    expect((await me(admin.token)).json().error.code).toBe('SESSION_EXPIRED');
  });

  it('logout revokes the token for the next request, also when the client sends an empty JSON body', async () => {
    const admin = await t.tenantWithAdmin('logout');
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { ...bearer(admin.token), 'content-type': 'application/json' }, payload: '' });
    expect(out.statusCode).toBe(204);
    const after = await me(admin.token);
    expect(after.statusCode).toBe(401);
    expect(after.json().error.code).toBe('SESSION_REVOKED');
  });

  it('a user changes their own password with the current one; their other sessions end, this one goes on', async () => {
    const admin = await t.tenantWithAdmin('change-pw');
    const other = (await login({ tenant: 'change-pw', username: admin.username, password: ADMIN_PASSWORD })).json().token;
    const change = (body: object) => t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: bearer(admin.token), payload: body });
    expect((await change({ currentPassword: 'not the password', newPassword: 'a brand new passphrase' })).json().error.code).toBe('INVALID_CREDENTIALS');
    expect((await change({ currentPassword: ADMIN_PASSWORD, newPassword: 'short' })).json().error.code).toBe('PASSWORD_POLICY');
    expect((await change({ currentPassword: ADMIN_PASSWORD, newPassword: ADMIN_PASSWORD })).json().error.code).toBe('PASSWORD_REUSED');
    expect((await change({ currentPassword: ADMIN_PASSWORD, newPassword: 'a brand new passphrase', extra: 1 })).statusCode).toBe(400);
    expect((await change({ currentPassword: ADMIN_PASSWORD, newPassword: 'a brand new passphrase' })).statusCode).toBe(204);
    expect((await me(admin.token)).statusCode).toBe(200);
    expect((await me(other)).json().error.code).toBe('SESSION_REVOKED');
    expect((await login({ tenant: 'change-pw', username: admin.username, password: ADMIN_PASSWORD })).statusCode).toBe(401);
    expect((await login({ tenant: 'change-pw', username: admin.username, password: 'a brand new passphrase' })).statusCode).toBe(200);
    const actions = (await t.runtime.database.db.selectFrom('audit_events').select('action').where('tenant_id', '=', admin.id).orderBy('seq').execute()).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.password.change_failed', 'auth.password.changed']));
  });

  it('a suspended tenant refuses every token and login; resuming restores logins, not old tokens', async () => {
    const admin = await t.tenantWithAdmin('suspend-me');
    const ops = bearer(t.operatorToken);
    expect((await t.app.inject({ method: 'POST', url: '/ops/v1/tenants/suspend-me/suspend', headers: ops })).statusCode).toBe(200);
    expect((await me(admin.token)).statusCode).toBe(401);
    const refused = await login({ tenant: 'suspend-me', username: admin.username, password: ADMIN_PASSWORD });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('TENANT_SUSPENDED');
    expect((await t.app.inject({ method: 'POST', url: '/ops/v1/tenants/suspend-me/resume', headers: ops })).statusCode).toBe(200);
    expect((await me(admin.token)).statusCode).toBe(401);
    const again = await login({ tenant: 'suspend-me', username: admin.username, password: ADMIN_PASSWORD });
    expect(again.statusCode).toBe(200);
    expect((await me(again.json().token)).statusCode).toBe(200);
  });

  it('bad input gets a 4xx with a stable code and writes nothing', async () => {
    await t.tenantWithAdmin('bad-input');
    const sessionsBefore = await countRows('sessions');
    const cases: [unknown, string][] = [
      [{ tenant: 'bad-input', username: 'a', password: 5 }, 'VALIDATION_FAILED'],
      [{ tenant: 'bad-input', username: 'a', password: 'b', role: 'admin' }, 'VALIDATION_FAILED'],
      [{ tenant: 'bad-input' }, 'VALIDATION_FAILED'],
      [[], 'VALIDATION_FAILED'],
    ];
    for (const [payload, code] of cases) {
      const res = await login(payload);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    const malformed = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: '{"tenant":', headers: { 'content-type': 'application/json' } });
    expect(malformed.json().error.code).toBe('MALFORMED_JSON');
    const huge = await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: JSON.stringify({ tenant: 'bad-input', token: 'x', password: 'p'.repeat(1_100_000) }), headers: { 'content-type': 'application/json' } });
    expect(huge.statusCode).toBe(413);
    expect(await countRows('sessions')).toBe(sessionsBefore);
  });
});

describe.each(dialects)('login rate limit on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { loginRateLimit: { max: 3, windowMs: 60_000 } });
  });
  afterAll(async () => t.close());

  it('refuses the fourth login attempt within the window with 429 RATE_LIMITED and Retry-After', async () => {
    const tenant = await t.createTenant('limited');
    const attempt = () => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'limited', username: tenant.adminEmail, password: 'wrong password!!' } });
    for (let i = 0; i < 3; i++) expect((await attempt()).statusCode).toBe(401);
    const limited = await attempt();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    const otherAccount = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'limited', username: 'someone-else@x.example', password: 'wrong password!!' } });
    expect(otherAccount.statusCode).toBe(401);
  });
});
