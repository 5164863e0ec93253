import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

const PASSWORD = 'a user password here';
const DAY = 24 * 3600_000;

// The code an authenticator app would show (the interoperability with oathtool is mfa.routes.test's subject).
const codeFor = (secret: string, at: number) => new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: at });

describe.each(dialects)('sessions restricted by the security policy on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'PUT' | 'POST' | 'PATCH', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const login = (tenant: string, username: string, password = PASSWORD, totp?: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant, username, password, ...(totp ? { totp } : {}) } });
  const db = () => t.runtime.database.db;
  const restrictionOf = async (tenantId: string, sessionToken: string) => {
    const sessions = await db().selectFrom('sessions').select(['id', 'restriction']).where('tenant_id', '=', tenantId).where('revoked_at', 'is', null).execute();
    const me = await call('GET', '/auth/me', sessionToken);
    expect(me.statusCode).toBe(200);
    return sessions.map((s) => s.restriction);
  };
  const auditOf = (tenantId: string, action: string) =>
    db().selectFrom('audit_events').select(['details', 'target_id', 'outcome']).where('tenant_id', '=', tenantId).where('action', '=', action).orderBy('seq').execute();

  /** Creates a user through an unrestricted admin session, activates them and logs in. */
  async function activeUser(admin: { slug: string; token: string }, username: string, roles?: string[]) {
    const created = await call('POST', '/users', admin.token, { username, email: `${username}@x.example`, ...(roles ? { roles } : {}) });
    expect(created.statusCode, created.body).toBe(201);
    const activated = await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: admin.slug, token: created.json().activation.token, password: PASSWORD } });
    expect(activated.statusCode, activated.body).toBe(200);
    const session = await login(admin.slug, username);
    expect(session.statusCode, session.body).toBe(200);
    return { id: created.json().user.id as string, username, token: session.json().token as string, login: session.json() };
  }
  /** Enrols and confirms an authenticator in the session; answers the secret. */
  async function enrol(token: string) {
    const enrolled = await call('POST', '/auth/mfa/totp/enroll', token);
    expect(enrolled.statusCode, enrolled.body).toBe(200);
    const secret = enrolled.json().secret as string;
    const confirmed = await call('POST', '/auth/mfa/totp/confirm', token, { code: codeFor(secret, t.clock.now()) });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    t.clock.advance(30_000);
    return secret;
  }
  const setPolicy = async (token: string, patch: object) => {
    const res = await call('PUT', '/settings/security', token, patch);
    expect(res.statusCode, res.body).toBe(200);
  };

  it('by default (mfaRequired admins) an unenrolled admin reaches only enrolment, me and logout, each refusal saying how to enrol', async () => {
    const admin = await t.tenantWithAdmin('restrict-admin', { policyDefaults: true });
    expect(admin.login).toMatchObject({ mfaEnrolmentRequired: true, mustChangePassword: false });
    for (const [method, url, payload] of [['GET', '/users'], ['GET', '/settings/security'], ['PUT', '/settings/security', { mfaRequired: 'none' }], ['POST', '/auth/password', { currentPassword: ADMIN_PASSWORD, newPassword: 'another long passphrase' }], ['POST', '/auth/mfa/totp/disable', { password: ADMIN_PASSWORD }]] as const) {
      const refused = await call(method, url, admin.token, payload);
      expect(refused.statusCode, `${method} ${url}`).toBe(403);
      expect(refused.json().error.code).toBe('MFA_ENROLMENT_REQUIRED');
      expect(refused.json().error.message).toContain('POST /api/v1/auth/mfa/totp/enroll');
    }
    // Refused before the body is read: bad input does not learn anything either.
    expect((await call('PUT', '/settings/security', admin.token, { bogus: 1 })).json().error.code).toBe('MFA_ENROLMENT_REQUIRED');
    expect((await call('GET', '/settings/security', admin.token)).statusCode).toBe(403);
    expect((await call('GET', '/auth/me', admin.token)).json().user.roles).toEqual(['tenant-admin']);
    expect(await restrictionOf(admin.id, admin.token)).toEqual(['mfa_enrolment']);
    const [event] = await auditOf(admin.id, 'auth.session.restricted');
    expect(JSON.parse(event!.details)).toEqual({ restriction: 'mfa_enrolment', owed: ['mfa_enrolment'] });
  });

  it('confirming enrolment lifts the restriction for the same session, audited; the next login asks for the code', async () => {
    const admin = await t.tenantWithAdmin('restrict-lift', { policyDefaults: true });
    const secret = await enrol(admin.token);
    expect((await call('GET', '/users', admin.token)).statusCode).toBe(200);
    expect((await call('GET', '/settings/security', admin.token)).json().mfaRequired).toBe('admins');
    expect(await restrictionOf(admin.id, admin.token)).toEqual([null]);
    const [lifted] = await auditOf(admin.id, 'auth.session.restriction_lifted');
    expect(JSON.parse(lifted!.details)).toEqual({ lifted: 'mfa_enrolment', remaining: 'none' });
    expect((await login('restrict-lift', admin.username, ADMIN_PASSWORD)).json().error.code).toBe('MFA_REQUIRED');
    const next = await login('restrict-lift', admin.username, ADMIN_PASSWORD, codeFor(secret, t.clock.now()));
    expect(next.json()).toMatchObject({ mfaEnrolmentRequired: false, mustChangePassword: false });
  });

  it("'admins' restricts whoever can change or deactivate something, not readers or plain users", async () => {
    const admin = await t.tenantWithAdmin('restrict-roles');
    await setPolicy(admin.token, { mfaRequired: 'admins' });
    const plain = await activeUser(admin, 'plain-user');
    const auditor = await activeUser(admin, 'an-auditor', ['auditor']);
    const security = await activeUser(admin, 'sec-admin', ['security-admin']);
    expect(plain.login.mfaEnrolmentRequired).toBe(false);
    expect(auditor.login.mfaEnrolmentRequired).toBe(false);
    expect(security.login.mfaEnrolmentRequired).toBe(true);
    expect((await call('GET', '/settings/security', auditor.token)).statusCode).toBe(200);
    expect((await call('POST', '/auth/password', plain.token, { currentPassword: PASSWORD, newPassword: 'a plain new passphrase' })).statusCode).toBe(204);
    expect((await call('GET', '/users', security.token)).json().error.code).toBe('MFA_ENROLMENT_REQUIRED');
    // Sessions opened before the policy changed keep what they had: the policy acts at the next login.
    expect((await call('GET', '/users', admin.token)).statusCode).toBe(200);
  });

  it("'admins' counts roles held through a group and custom roles by what they grant", async () => {
    const admin = await t.tenantWithAdmin('restrict-custom');
    await setPolicy(admin.token, { mfaRequired: 'admins' });
    for (const [name, permissions] of [['helpdesk', ['identity.users.read', 'identity.users.write']], ['lookup', ['identity.users.read']]] as const) {
      const role = await call('POST', '/roles', admin.token, { name, permissions });
      expect(role.statusCode, role.body).toBe(201);
    }
    const helpdesk = await activeUser(admin, 'helpdesk-user', ['helpdesk']);
    const lookup = await activeUser(admin, 'lookup-user', ['lookup']);
    expect(helpdesk.login.mfaEnrolmentRequired).toBe(true);
    expect(lookup.login.mfaEnrolmentRequired).toBe(false);
    const member = await activeUser(admin, 'group-member');
    const group = await call('POST', '/groups', admin.token, { name: 'Security team', roles: ['security-admin'], members: [member.id] });
    expect(group.statusCode, group.body).toBe(201);
    expect((await login('restrict-custom', 'group-member')).json().mfaEnrolmentRequired).toBe(true);
  });

  it("'all' restricts a plain user until they enrol", async () => {
    const admin = await t.tenantWithAdmin('restrict-all');
    await setPolicy(admin.token, { mfaRequired: 'all' });
    const plain = await activeUser(admin, 'everyone');
    expect(plain.login).toMatchObject({ mfaEnrolmentRequired: true });
    expect((await call('POST', '/auth/password', plain.token, { currentPassword: PASSWORD, newPassword: 'a plain new passphrase' })).json().error.code).toBe('MFA_ENROLMENT_REQUIRED');
    await enrol(plain.token);
    expect((await call('POST', '/auth/password', plain.token, { currentPassword: PASSWORD, newPassword: 'a plain new passphrase' })).statusCode).toBe(204);
    await setPolicy(admin.token, { mfaRequired: 'none' });
  });

  it('removing the authenticator while the policy requires it is refused with 409 and audited; once not required it works', async () => {
    const admin = await t.tenantWithAdmin('restrict-disable');
    const user = await activeUser(admin, 'keeps-mfa');
    await enrol(user.token);
    await setPolicy(admin.token, { mfaRequired: 'all' });
    const refused = await call('POST', '/auth/mfa/totp/disable', user.token, { password: PASSWORD });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'MFA_REQUIRED_BY_POLICY', message: expect.stringContaining('mfaRequired') });
    expect(await db().selectFrom('mfa_totp').select('confirmed_at').where('tenant_id', '=', admin.id).where('user_id', '=', user.id).executeTakeFirst()).toBeDefined();
    expect((await auditOf(admin.id, 'auth.mfa.disable_refused')).map((e) => [e.target_id, e.outcome])).toEqual([[user.id, 'failure']]);
    // A wrong password is still told first: the policy answer is not a password oracle.
    expect((await call('POST', '/auth/mfa/totp/disable', user.token, { password: 'not the password' })).json().error.code).toBe('INVALID_CREDENTIALS');
    await setPolicy(admin.token, { mfaRequired: 'admins' });
    expect((await call('POST', '/auth/mfa/totp/disable', user.token, { password: PASSWORD })).statusCode).toBe(204);
    await setPolicy(admin.token, { mfaRequired: 'none' });
  });

  it("another tenant's policy restricts nobody here", async () => {
    await t.tenantWithAdmin('restrict-other', { policyDefaults: true });
    const mine = await t.tenantWithAdmin('restrict-mine');
    const plain = await activeUser(mine, 'not-restricted', ['security-admin']);
    expect(plain.login.mfaEnrolmentRequired).toBe(false);
    expect((await call('GET', '/users', plain.token)).statusCode).toBe(200);
  });
});

describe.each(dialects)('password age on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'PUT' | 'POST', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const login = (tenant: string, username: string, password = ADMIN_PASSWORD, totp?: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant, username, password, ...(totp ? { totp } : {}) } });

  it('a password older than passwordMaxAgeDays still logs in, but the session only changes it (and me, logout) until it does', async () => {
    const admin = await t.tenantWithAdmin('age-admin');
    t.clock.advance(89 * DAY);
    const young = await login('age-admin', admin.username);
    expect(young.json()).toMatchObject({ mustChangePassword: false, mfaEnrolmentRequired: false });
    t.clock.advance(1 * DAY);
    const old = await login('age-admin', admin.username);
    expect(old.statusCode).toBe(200);
    expect(old.json()).toMatchObject({ mustChangePassword: true, mfaEnrolmentRequired: false });
    const token = old.json().token as string;
    for (const [method, url] of [['GET', '/users'], ['GET', '/settings/security'], ['POST', '/auth/mfa/totp/enroll']] as const) {
      const refused = await call(method, url, token);
      expect(refused.statusCode, url).toBe(403);
      expect(refused.json().error.code).toBe('PASSWORD_EXPIRED');
      expect(refused.json().error.message).toContain('POST /api/v1/auth/password');
    }
    expect((await call('GET', '/auth/me', token)).statusCode).toBe(200);
    expect((await call('POST', '/auth/password', token, { currentPassword: ADMIN_PASSWORD, newPassword: 'a fresh passphrase now' })).statusCode).toBe(204);
    expect((await call('GET', '/users', token)).statusCode).toBe(200);
    expect((await login('age-admin', admin.username, 'a fresh passphrase now')).json().mustChangePassword).toBe(false);
    const events = await t.runtime.database.db.selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', admin.id).where('action', 'like', 'auth.session.%').orderBy('seq').execute();
    expect(events.map((e) => [e.action, JSON.parse(e.details)])).toEqual([
      ['auth.session.restricted', { restriction: 'password_change', owed: ['password_change'] }],
      ['auth.session.restriction_lifted', { lifted: 'password_change', remaining: 'none' }],
    ]);
  });

  it('0 means passwords never expire; a reset through an activation token starts the age again', async () => {
    const admin = await t.tenantWithAdmin('age-never');
    await call('PUT', '/settings/security', admin.token, { passwordMaxAgeDays: 0 });
    const created = (await call('POST', '/users', admin.token, { username: 'resetter', email: 'r@x.example' })).json();
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'age-never', token: created.activation.token, password: 'the first passphrase' } });
    t.clock.advance(400 * DAY);
    const admin2 = await login('age-never', admin.username);
    expect(admin2.json().mustChangePassword).toBe(false);
    await call('PUT', '/settings/security', admin2.json().token, { passwordMaxAgeDays: 30 });
    expect((await login('age-never', 'resetter', 'the first passphrase')).json().mustChangePassword).toBe(true);
    const reset = (await call('POST', `/users/${created.user.id}/reset-password`, admin2.json().token)).json();
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'age-never', token: reset.activation.token, password: 'the second passphrase' } })).statusCode).toBe(200);
    expect((await login('age-never', 'resetter', 'the second passphrase')).json().mustChangePassword).toBe(false);
  });

  it('an expired password and a missing authenticator: enrol first, then change the password, all in one session', async () => {
    const admin = await t.tenantWithAdmin('age-both', { policyDefaults: true });
    await call('POST', '/auth/logout', admin.token);
    t.clock.advance(91 * DAY);
    const both = await login('age-both', admin.username);
    expect(both.json()).toMatchObject({ mustChangePassword: true, mfaEnrolmentRequired: true });
    const token = both.json().token as string;
    expect((await call('POST', '/auth/password', token, { currentPassword: ADMIN_PASSWORD, newPassword: 'a fresh passphrase now' })).json().error.code).toBe('MFA_ENROLMENT_REQUIRED');
    const secret = (await call('POST', '/auth/mfa/totp/enroll', token)).json().secret as string;
    expect((await call('POST', '/auth/mfa/totp/confirm', token, { code: codeFor(secret, t.clock.now()) })).statusCode).toBe(200);
    expect((await call('GET', '/users', token)).json().error.code).toBe('PASSWORD_EXPIRED');
    expect((await call('POST', '/auth/password', token, { currentPassword: ADMIN_PASSWORD, newPassword: 'a fresh passphrase now' })).statusCode).toBe(204);
    expect((await call('GET', '/users', token)).statusCode).toBe(200);
    const lifted = await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'auth.session.restriction_lifted').orderBy('seq').execute();
    expect(lifted.map((e) => JSON.parse(e.details))).toEqual([{ lifted: 'mfa_enrolment', remaining: 'password_change' }, { lifted: 'password_change', remaining: 'none' }]);
  });
});
