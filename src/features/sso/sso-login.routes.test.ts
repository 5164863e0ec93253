import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { CookieJar, signInAtIdp } from '../../../test/support/browser-jar.js';
import { dialects } from '../../../test/support/databases.js';
import { startTestIdp, type TestIdp } from '../../../test/support/oidc-idp.js';
import { callbackUrl, configureSso, cookieHeader, finishSso, ssoLogin, startSso } from '../../../test/support/sso.js';
import { apiCall } from '../../../test/support/users.js';

describe.each(dialects)('single sign-on login on %s', (dialect) => {
  let t: TestApp;
  let idp: TestIdp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    idp = await startTestIdp();
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('sso-a');
    other = await t.tenantWithAdmin('sso-b');
    await configureSso(t, admin.token, idp, { jitProvisioning: true });
    await configureSso(t, other.token, idp, { jitProvisioning: false });
  });
  afterAll(async () => {
    await t.close();
    await idp.close();
  });

  const db = () => t.runtime.database.db;
  const events = (tenantId: string, action: string) =>
    db().selectFrom('audit_events').select(['action', 'actor_id', 'target_id', 'details', 'outcome', 'severity']).where('tenant_id', '=', tenantId).where('action', '=', action).orderBy('seq').execute();
  const userByEmail = (tenantId: string, email: string) => db().selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('email', '=', email).executeTakeFirst();
  const person = (sub: string, groups: string[] = []) => idp.accounts.set(sub, { email: `${sub}@idp.example`, email_verified: true, name: `Person ${sub}`, groups });

  it('a full login through the IdP opens a session the browser uses with its cookie', async () => {
    person('ana');
    const { callback, jar, authorizationUrl } = await ssoLogin(t, idp, admin.slug, 'ana');
    // PKCE with S256, a state and a nonce went to the IdP.
    const auth = new URL(authorizationUrl);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    expect(auth.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(auth.searchParams.get('redirect_uri')).toBe(callbackUrl(t));
    expect(auth.searchParams.get('nonce')).toBeTruthy();
    expect(callback.statusCode, callback.body).toBe(302);
    expect(callback.headers.location).toBe('/');
    const cookies = ([] as string[]).concat(callback.headers['set-cookie'] as string[]);
    const session = cookies.find((c) => c.startsWith('custos_session='))!;
    expect(session).toMatch(/HttpOnly/);
    expect(session).toMatch(/SameSite=Lax/);
    expect(session).toMatch(/Path=\//);
    // The test server's public URL is http://127.0.0.1: no Secure flag, or the browser would never send it back.
    expect(session).not.toMatch(/Secure/);
    expect(cookies.find((c) => c.startsWith('custos_csrf='))).not.toMatch(/HttpOnly/);
    expect(jar.cookies.get('custos_session')).toMatch(/^cst_/);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: cookieHeader(jar) });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json()).toMatchObject({ user: { username: 'ana@idp.example', roles: ['user'] }, tenant: { slug: admin.slug } });
    const succeeded = (await events(admin.id, 'auth.login.succeeded')).at(-1)!;
    expect(JSON.parse(succeeded.details)).toEqual({ username: 'ana@idp.example', method: 'sso', issuer: idp.issuer });
    // The same sessions table as password login.
    const row = await db().selectFrom('sessions').selectAll().where('tenant_id', '=', admin.id).where('id', '=', succeeded.target_id!).executeTakeFirstOrThrow();
    expect(row.restriction).toBeNull();
  });

  it('just-in-time provisioning creates an active user with the role user and no password, linked to the subject', async () => {
    person('jit-1');
    const { callback } = await ssoLogin(t, idp, admin.slug, 'jit-1');
    expect(callback.statusCode, callback.body).toBe(302);
    const user = (await userByEmail(admin.id, 'jit-1@idp.example'))!;
    expect(user).toMatchObject({ status: 'active', password_hash: null, username: 'jit-1@idp.example', display_name: 'Person jit-1' });
    const link = await db().selectFrom('sso_links').selectAll().where('tenant_id', '=', admin.id).where('subject', '=', 'jit-1').executeTakeFirstOrThrow();
    expect(link).toMatchObject({ issuer: idp.issuer, user_id: user.id });
    const created = (await events(admin.id, 'user.created')).at(-1)!;
    expect(JSON.parse(created.details)).toMatchObject({ username: 'jit-1@idp.example', roles: ['user'], source: 'sso' });
    expect((await events(admin.id, 'auth.sso.linked')).at(-1)!.target_id).toBe(user.id);
    // A second login finds the same user by the link, even after the IdP changes the email.
    idp.accounts.set('jit-1', { email: 'renamed@idp.example', email_verified: true });
    expect((await ssoLogin(t, idp, admin.slug, 'jit-1')).callback.statusCode).toBe(302);
    expect(await db().selectFrom('users').select('id').where('tenant_id', '=', admin.id).where('email', '=', 'renamed@idp.example').executeTakeFirst()).toBeUndefined();
  });

  it('without just-in-time provisioning an unknown person is refused, audited, and no user is created', async () => {
    person('stranger');
    const { callback } = await ssoLogin(t, idp, other.slug, 'stranger');
    expect(callback.statusCode).toBe(403);
    expect(callback.json().error.code).toBe('SSO_USER_UNKNOWN');
    expect(callback.headers['set-cookie']).toBeUndefined();
    expect(await userByEmail(other.id, 'stranger@idp.example')).toBeUndefined();
    const failed = (await events(other.id, 'auth.sso.login.failed')).at(-1)!;
    expect(failed.outcome).toBe('failure');
    expect(JSON.parse(failed.details)).toMatchObject({ reason: 'unknown_user', issuer: idp.issuer, subject: 'stranger' });
  });

  it('an existing user is found by verified email the first time; an unverified email finds nobody', async () => {
    const created = await apiCall(t, 'POST', '/users', other.token, { username: 'bea', email: 'bea@idp.example' });
    expect(created.statusCode, created.body).toBe(201);
    idp.accounts.set('bea-unverified', { email: 'bea@idp.example', email_verified: false });
    expect((await ssoLogin(t, idp, other.slug, 'bea-unverified')).callback.json().error.code).toBe('SSO_USER_UNKNOWN');
    person('bea');
    const { callback } = await ssoLogin(t, idp, other.slug, 'bea');
    expect(callback.statusCode, callback.body).toBe(302);
    // The pending user became active by signing in through the IdP.
    expect((await userByEmail(other.id, 'bea@idp.example'))!.status).toBe('active');
  });

  it('a deactivated user is refused at the callback, audited, and gets no session', async () => {
    person('dora');
    const first = await ssoLogin(t, idp, admin.slug, 'dora');
    expect(first.callback.statusCode).toBe(302);
    const user = (await userByEmail(admin.id, 'dora@idp.example'))!;
    expect((await apiCall(t, 'PATCH', `/users/${user.id}`, admin.token, { status: 'inactive' })).statusCode).toBe(200);
    // The session opened before the deactivation ends with it.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: cookieHeader(first.jar) })).statusCode).toBe(401);
    const again = await ssoLogin(t, idp, admin.slug, 'dora');
    expect(again.callback.statusCode).toBe(403);
    expect(again.callback.json().error.code).toBe('USER_DISABLED');
    expect(again.callback.headers['set-cookie']).toBeUndefined();
    expect(JSON.parse((await events(admin.id, 'auth.sso.login.failed')).at(-1)!.details)).toMatchObject({ reason: 'user_inactive', userId: user.id });
  });

  it('a state works once: replaying the callback, or an unknown state, is refused', async () => {
    person('eve');
    const { callback, back, jar } = await ssoLogin(t, idp, admin.slug, 'eve');
    expect(callback.statusCode).toBe(302);
    const replay = await finishSso(t, back, jar);
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error.code).toBe('SSO_STATE_INVALID');
    expect(JSON.parse((await events(admin.id, 'auth.sso.login.failed')).at(-1)!.details)).toMatchObject({ reason: 'state_replayed' });
    const forged = new URL(back);
    forged.searchParams.set('state', 'x'.repeat(43));
    expect((await finishSso(t, forged, jar)).json().error.code).toBe('SSO_STATE_INVALID');
    const none = new URL(back);
    none.searchParams.delete('state');
    expect((await finishSso(t, none, jar)).statusCode).toBe(400);
  });

  it('a state stolen into another browser is refused there and still works in the browser that started it', async () => {
    person('fay');
    const jar = new CookieJar();
    const back = await signInAtIdp(await startSso(t, admin.slug, jar), 'fay', callbackUrl(t));
    const thief = await finishSso(t, back, new CookieJar());
    expect(thief.statusCode).toBe(400);
    expect(thief.json().error.code).toBe('SSO_STATE_INVALID');
    expect(JSON.parse((await events(admin.id, 'auth.sso.login.failed')).at(-1)!.details)).toMatchObject({ reason: 'other_browser' });
    expect((await finishSso(t, back, jar)).statusCode).toBe(302);
  });

  it("another tenant's state cannot carry this tenant's code: the exchange fails and no session opens", async () => {
    person('gil');
    const jar = new CookieJar();
    const stateA = new URL(await startSso(t, admin.slug, jar)).searchParams.get('state')!;
    const backB = await signInAtIdp(await startSso(t, other.slug, jar), 'gil', callbackUrl(t));
    const mixed = new URL(backB);
    mixed.searchParams.set('state', stateA);
    const res = await finishSso(t, mixed, jar);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('SSO_TOKEN_INVALID');
    expect(jar.cookies.has('custos_session')).toBe(false);
    expect(JSON.parse((await events(admin.id, 'auth.sso.login.failed')).at(-1)!.details)).toMatchObject({ reason: 'token_invalid' });
    // Tenant B's own state was not touched and still completes B's login (a refusal: B has no JIT).
    expect((await finishSso(t, backB, jar)).json().error.code).toBe('SSO_USER_UNKNOWN');
  });

  it('an expired login (10 minutes) is refused', async () => {
    person('hal');
    const jar = new CookieJar();
    const back = await signInAtIdp(await startSso(t, admin.slug, jar), 'hal', callbackUrl(t));
    t.clock.advance(10 * 60_000 + 1);
    const res = await finishSso(t, back, jar);
    expect(res.json().error.code).toBe('SSO_STATE_INVALID');
    expect(JSON.parse((await events(admin.id, 'auth.sso.login.failed')).at(-1)!.details)).toMatchObject({ reason: 'state_expired' });
  });

  it('returnTo keeps the browser on this server: a path is followed, another origin is refused', async () => {
    person('ivy');
    const { callback } = await ssoLogin(t, idp, admin.slug, 'ivy', new CookieJar(), '/vault/devices?x=1');
    expect(callback.headers.location).toBe('/vault/devices?x=1');
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', 'vault', '/..//evil.example', '/.//evil.example/x', '/%2e%2e//evil.example']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/auth/sso/start?${new URLSearchParams({ tenant: admin.slug, returnTo })}` });
      expect(res.statusCode, returnTo).toBe(400);
      expect(res.json().error.code).toBe('SSO_RETURN_TO_INVALID');
    }
  });

  it('start answers 404 for a tenant without SSO and for an unknown tenant, and 400 for bad input', async () => {
    const plain = await t.tenantWithAdmin('sso-none');
    for (const slug of [plain.slug, 'no-such-tenant']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/auth/sso/start?tenant=${slug}` });
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('SSO_NOT_CONFIGURED');
    }
    for (const query of ['', '?tenant=', `?tenant=${admin.slug}&extra=1`]) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/auth/sso/start${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
  });

  it("the tenant's network allowlist applies to single sign-on", async () => {
    const tenant = await t.tenantWithAdmin('sso-net');
    await configureSso(t, tenant.token, idp, { jitProvisioning: true });
    expect((await apiCall(t, 'PUT', '/settings/network', tenant.token, { allowedCidrs: ['203.0.113.0/24'], force: true })).statusCode).toBe(200);
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/auth/sso/start?tenant=${tenant.slug}` });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('NETWORK_NOT_ALLOWED');
  });

  it('an error sent back by the IdP is refused and audited', async () => {
    const jar = new CookieJar();
    const state = new URL(await startSso(t, admin.slug, jar)).searchParams.get('state')!;
    const res = await finishSso(t, new URL(`${callbackUrl(t)}?error=access_denied&state=${state}`), jar);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('SSO_IDP_ERROR');
    expect(JSON.parse((await events(admin.id, 'auth.sso.login.failed')).at(-1)!.details)).toMatchObject({ reason: 'idp_error' });
  });

  it('a session from SSO is an ordinary session token: usable as a bearer token too', async () => {
    person('jo');
    const { jar } = await ssoLogin(t, idp, admin.slug, 'jo');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(jar.cookies.get('custos_session')!) });
    expect(me.json().user.username).toBe('jo@idp.example');
  });
  it('an identity provider cannot take over a break-glass account by asserting its email', async () => {
    const me = (await apiCall(t, 'GET', '/auth/me', other.token)).json().user;
    await configureSso(t, other.token, idp, { jitProvisioning: false, breakGlassUsers: [me.id] });
    idp.accounts.set('impostor', { email: me.email, email_verified: true });
    const { callback } = await ssoLogin(t, idp, other.slug, 'impostor');
    expect(callback.statusCode).toBe(403);
    expect(callback.json().error.code).toBe('SSO_BREAK_GLASS_LOCAL');
    expect(callback.headers['set-cookie']).toBeUndefined();
    expect(await db().selectFrom('sso_links').select('user_id').where('tenant_id', '=', other.id).where('user_id', '=', me.id).execute()).toEqual([]);
  });
});
