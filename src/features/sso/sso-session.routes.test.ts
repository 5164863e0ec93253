import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { startTestIdp, type TestIdp } from '../../../test/support/oidc-idp.js';
import { configureSso, cookieHeader, ssoLogin } from '../../../test/support/sso.js';
import { apiCall } from '../../../test/support/users.js';

describe.each(dialects)('browser sessions and group mapping on %s', (dialect) => {
  let t: TestApp;
  let idp: TestIdp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let auditors: { id: string };
  beforeAll(async () => {
    idp = await startTestIdp();
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('sso-s');
    const group = await apiCall(t, 'POST', '/groups', admin.token, { name: 'Auditors', roles: ['auditor'] });
    expect(group.statusCode, group.body).toBe(201);
    auditors = group.json().group;
    // One mapping by group name, one (to the same group) by id: either claim confers membership.
    await configureSso(t, admin.token, idp, { jitProvisioning: true, groupMapping: [{ claim: 'okta-auditors', group: 'Auditors' }, { claim: 'okta-compliance', group: auditors.id }] });
  });
  afterAll(async () => {
    await t.close();
    await idp.close();
  });

  const db = () => t.runtime.database.db;
  const events = (action: string) => db().selectFrom('audit_events').select(['actor_id', 'actor_kind', 'target_id', 'details']).where('tenant_id', '=', admin.id).where('action', '=', action).orderBy('seq').execute();
  const login = async (sub: string, groups: string[]) => {
    idp.accounts.set(sub, { email: `${sub}@idp.example`, email_verified: true, groups });
    const { callback, jar } = await ssoLogin(t, idp, admin.slug, sub);
    expect(callback.statusCode, callback.body).toBe(302);
    return jar;
  };

  it('a cookie POST without X-CSRF-Token is refused with 403 CSRF_FAILED; a wrong one too; the right one passes', async () => {
    const jar = await login('csrf-user', []);
    const logout = (headers: Record<string, string>) => t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { ...cookieHeader(jar), ...headers } });
    const missing = await logout({});
    expect(missing.statusCode).toBe(403);
    expect(missing.json().error.code).toBe('CSRF_FAILED');
    const wrong = await logout({ 'x-csrf-token': 'A'.repeat(43) });
    expect(wrong.json().error.code).toBe('CSRF_FAILED');
    // Another session's CSRF token does not fit this session.
    const otherJar = await login('csrf-other', []);
    expect((await logout({ 'x-csrf-token': otherJar.cookies.get('custos_csrf')! })).json().error.code).toBe('CSRF_FAILED');
    // The refusals changed nothing: the session still works.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: cookieHeader(jar) })).statusCode).toBe(200);
    const ok = await logout({ 'x-csrf-token': jar.cookies.get('custos_csrf')! });
    expect(ok.statusCode, ok.body).toBe(204);
    // Logout clears both cookies, and the session token is revoked.
    const cleared = ([] as string[]).concat(ok.headers['set-cookie'] as string[]);
    expect(cleared.some((c) => /^custos_session=;.*Max-Age=0/.test(c))).toBe(true);
    expect(cleared.some((c) => /^custos_csrf=;.*Max-Age=0/.test(c))).toBe(true);
    const token = jar.cookies.get('custos_session')!;
    jar.take(ok.headers['set-cookie']);
    expect(jar.cookies.size).toBe(1); // only the custos_sso browser binding remains
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) })).json().error.code).toBe('SESSION_REVOKED');
  });

  it('a cookie-authenticated GET needs no CSRF token; a bearer POST needs none either', async () => {
    const jar = await login('csrf-reader', []);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: cookieHeader(jar) })).statusCode).toBe(200);
    const token = jar.cookies.get('custos_session')!;
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(token) });
    expect(res.statusCode, res.body).toBe(204);
  });

  it('an Authorization header wins over the cookie: a bad bearer token is not rescued by a good cookie', async () => {
    const jar = await login('csrf-mixed', []);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { ...cookieHeader(jar), authorization: 'Bearer cst_nonsense' } });
    expect(res.statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: 'custos_session=cst_nonsense' } })).statusCode).toBe(401);
  });

  it('a cookie session is refused on the operator plane', async () => {
    const jar = await login('csrf-ops', []);
    expect((await t.app.inject({ method: 'GET', url: '/ops/v1/tenants', headers: cookieHeader(jar) })).statusCode).toBe(401);
  });

  it('group mapping adds the user to the mapped group on login and removes them on a later login without the claim', async () => {
    const first = await login('gus', ['okta-auditors', 'unmapped-group']);
    const user = await db().selectFrom('users').select('id').where('tenant_id', '=', admin.id).where('email', '=', 'gus@idp.example').executeTakeFirstOrThrow();
    const members = async () => (await apiCall(t, 'GET', `/groups/${auditors.id}`, admin.token)).json().group.members.map((m: { id: string }) => m.id);
    expect(await members()).toContain(user.id);
    // The group's role is now effective: the auditor's read permission.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/settings/security', headers: cookieHeader(first) })).statusCode).toBe(200);
    const added = (await events('group.members.added')).at(-1)!;
    expect(added).toMatchObject({ target_id: auditors.id, actor_kind: 'system', actor_id: 'sso' });
    expect(JSON.parse(added.details)).toMatchObject({ userIds: [user.id], source: 'sso' });

    // The other mapped claim keeps the membership; nothing changes, nothing is audited.
    const before = (await events('group.members.added')).length;
    await login('gus', ['okta-compliance']);
    expect(await members()).toContain(user.id);
    expect((await events('group.members.added')).length).toBe(before);

    const later = await login('gus', ['unmapped-group']);
    expect(await members()).not.toContain(user.id);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/settings/security', headers: cookieHeader(later) })).statusCode).toBe(403);
    const removed = (await events('group.members.removed')).at(-1)!;
    expect(removed.target_id).toBe(auditors.id);
    expect(JSON.parse(removed.details)).toMatchObject({ userIds: [user.id], source: 'sso' });
  });

  it('a single group name sent as a string (not a list) is understood', async () => {
    idp.accounts.set('hana', { email: 'hana@idp.example', email_verified: true, groups: 'okta-auditors' as unknown as string[] });
    const { callback, jar } = await ssoLogin(t, idp, admin.slug, 'hana');
    expect(callback.statusCode).toBe(302);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/settings/security', headers: cookieHeader(jar) })).statusCode).toBe(200);
  });

  it("SSO sessions are not restricted by the tenant's mfaRequired policy (the IdP is responsible for MFA)", async () => {
    expect((await apiCall(t, 'PUT', '/settings/security', admin.token, { mfaRequired: 'all' })).statusCode).toBe(200);
    const jar = await login('mfa-free', []);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/settings/security', headers: cookieHeader(jar) });
    // 403 FORBIDDEN (the role user lacks the permission), not MFA_ENROLMENT_REQUIRED: the session is unrestricted.
    expect(res.json().error.code).toBe('FORBIDDEN');
    expect((await apiCall(t, 'PUT', '/settings/security', admin.token, { mfaRequired: 'none' })).statusCode).toBe(200);
  });
});
