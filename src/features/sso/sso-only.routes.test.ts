import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { startTestIdp, type TestIdp } from '../../../test/support/oidc-idp.js';
import { configureSso, ssoLogin } from '../../../test/support/sso.js';
import { activeUser, apiCall, USER_PASSWORD } from '../../../test/support/users.js';

describe.each(dialects)('SSO only, with a break-glass admin, on %s', (dialect) => {
  let t: TestApp;
  let idp: TestIdp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let adminId: string;
  let local: Awaited<ReturnType<typeof activeUser>>;
  beforeAll(async () => {
    idp = await startTestIdp();
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('sso-only');
    adminId = (await apiCall(t, 'GET', '/auth/me', admin.token)).json().user.id;
    // A local security-admin with a password, activated before SSO became mandatory.
    local = await activeUser(t, admin, 'local-secadmin', ['security-admin']);
    await configureSso(t, admin.token, idp, { jitProvisioning: true, ssoOnly: true, breakGlassUsers: [adminId] });
  });
  afterAll(async () => {
    await t.close();
    await idp.close();
  });

  const db = () => t.runtime.database.db;
  const login = (username: string, password: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: admin.slug, username, password } });
  const events = (action: string) => db().selectFrom('audit_events').select(['details', 'severity', 'actor_id', 'outcome']).where('tenant_id', '=', admin.id).where('action', '=', action).orderBy('seq').execute();

  it('password login of anyone but a break-glass account answers 403 SSO_REQUIRED, pointing at the IdP', async () => {
    for (const [username, password] of [['local-secadmin', USER_PASSWORD], ['nobody-here', 'whatever password'], ['local-secadmin', 'wrong password']]) {
      const res = await login(username!, password!);
      expect(res.statusCode, username).toBe(403);
      expect(res.json().error.code).toBe('SSO_REQUIRED');
      expect(res.json().error.message).toContain(`/api/v1/auth/sso/start?tenant=${admin.slug}`);
    }
    expect(JSON.parse((await events('auth.login.failed')).at(-1)!.details)).toMatchObject({ reason: 'sso_required' });
    // Refusals by policy are not password failures: no lockout counts up.
    expect((await db().selectFrom('users').select('failed_logins').where('tenant_id', '=', admin.id).where('id', '=', local.id).executeTakeFirstOrThrow()).failed_logins).toBe(0);
  });

  it('the break-glass admin keeps password login, and every such login is audited with high severity', async () => {
    const before = (await events('auth.break_glass.login')).length;
    const res = await login(admin.username, admin.password);
    expect(res.statusCode, res.body).toBe(200);
    const events_ = await events('auth.break_glass.login');
    expect(events_.length).toBe(before + 1);
    expect(events_.at(-1)!.severity).toBeGreaterThanOrEqual(9);
    expect(events_.at(-1)!.actor_id).toBe(adminId);
    // A wrong password of the break-glass account counts towards lockout, but answers like any refusal under
    // SSO-only: the answer never reveals which accounts are break-glass.
    const wrong = await login(admin.username, 'not the password at all');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('SSO_REQUIRED');
  });

  it('activation of a new local password is refused for users who are not break-glass', async () => {
    const created = (await apiCall(t, 'POST', '/users', admin.token, { username: 'newcomer', email: 'newcomer@x.example' })).json();
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: admin.slug, token: created.activation.token, password: 'a long enough password 1' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('SSO_REQUIRED');
    const user = await db().selectFrom('users').select(['status', 'password_hash']).where('tenant_id', '=', admin.id).where('id', '=', created.user.id).executeTakeFirstOrThrow();
    expect(user).toEqual({ status: 'pending', password_hash: null });
    expect(JSON.parse((await events('auth.activation.failed')).at(-1)!.details)).toMatchObject({ reason: 'sso_required' });
    // The same person signs in through the IdP instead (found by verified email, then active).
    idp.accounts.set('newcomer', { email: 'newcomer@x.example', email_verified: true });
    expect((await ssoLogin(t, idp, admin.slug, 'newcomer')).callback.statusCode).toBe(302);
  });

  it('turning ssoOnly off gives password login back to everyone', async () => {
    await configureSso(t, admin.token, idp, { ssoOnly: false, breakGlassUsers: [adminId] });
    expect((await login('local-secadmin', USER_PASSWORD)).statusCode).toBe(200);
    const before = (await events('auth.break_glass.login')).length;
    expect((await login(admin.username, admin.password)).statusCode).toBe(200);
    // Outside ssoOnly a break-glass account's login is ordinary: nothing to alert on.
    expect((await events('auth.break_glass.login')).length).toBe(before);
  });
});
