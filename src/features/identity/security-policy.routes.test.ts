import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

const PASSWORD = 'a user password here';

describe.each(dialects)('the security policy on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('policy-a');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'PUT' | 'POST' | 'PATCH', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const login = (tenant: string, username: string, password = PASSWORD) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant, username, password } });
  const setPolicy = async (patch: object, by = admin) => {
    const res = await call('PUT', '/settings/security', by.token, patch);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  async function createUser(username: string, roles?: string[], tenant = admin) {
    const created = (await call('POST', '/users', tenant.token, { username, email: `${username}@x.example`, ...(roles ? { roles } : {}) })).json();
    return { id: created.user.id as string, activation: created.activation.token as string };
  }
  async function activeUser(username: string, roles?: string[]) {
    const user = await createUser(username, roles);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'policy-a', token: user.activation, password: PASSWORD } });
    return { id: user.id, token: (await login('policy-a', username)).json().token as string };
  }

  it('ships careful defaults, read by an admin who first had to enrol a second factor', async () => {
    const fresh = await t.tenantWithAdmin('policy-defaults', { policyDefaults: true });
    expect((await call('GET', '/settings/security', fresh.token)).json().error.code).toBe('MFA_ENROLMENT_REQUIRED');
    const { secret } = (await call('POST', '/auth/mfa/totp/enroll', fresh.token)).json();
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: t.clock.now() });
    expect((await call('POST', '/auth/mfa/totp/confirm', fresh.token, { code })).statusCode).toBe(200);
    expect((await call('GET', '/settings/security', fresh.token)).json()).toEqual({
      passwordMinLength: 12, passwordRequireClasses: 0, lockoutThreshold: 5, lockoutMinutes: 30,
      sessionIdleMinutes: 30, sessionMaxHours: 12, singleSession: false, inactivityDisableDays: 90,
      passwordHistory: 5, passwordMaxAgeDays: 90, mfaRequired: 'admins', fourEyesRoleGrants: false,
    });
  });

  it('refuses out-of-range history, age and MFA settings with VALIDATION_FAILED naming the field and its range', async () => {
    const cases: [object, string, string][] = [
      [{ passwordHistory: 25 }, 'passwordHistory', '0 (no history) to 24'],
      [{ passwordHistory: -1 }, 'passwordHistory', '0 (no history) to 24'],
      [{ passwordHistory: 2.5 }, 'passwordHistory', 'int'],
      [{ passwordMaxAgeDays: 3651 }, 'passwordMaxAgeDays', '0 (never expires) or 1 to 3650'],
      [{ passwordMaxAgeDays: -1 }, 'passwordMaxAgeDays', '0 (never expires) or 1 to 3650'],
      [{ passwordMaxAgeDays: '90' }, 'passwordMaxAgeDays', 'number'],
      [{ mfaRequired: 'sometimes' }, 'mfaRequired', '"none", "admins"'],
      [{ mfaRequired: true }, 'mfaRequired', '"none", "admins"'],
    ];
    for (const [patch, field, says] of cases) {
      const res = await call('PUT', '/settings/security', admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      expect(res.json().error.details.issues).toEqual([{ path: `body.${field}`, message: expect.stringContaining(says) }]);
    }
    expect((await call('GET', '/settings/security', admin.token)).json()).toMatchObject({ passwordHistory: 5, passwordMaxAgeDays: 90, mfaRequired: 'none' });
  });

  it('the new fields take every value of their range, and their changes are audited like the others', async () => {
    for (const patch of [{ passwordHistory: 0 }, { passwordHistory: 24 }, { passwordMaxAgeDays: 0 }, { passwordMaxAgeDays: 3650 }, { passwordMaxAgeDays: 1 }, { mfaRequired: 'all' }, { mfaRequired: 'admins' }]) {
      expect(await setPolicy(patch)).toMatchObject(patch);
    }
    await setPolicy({ passwordHistory: 7, passwordMaxAgeDays: 60, mfaRequired: 'none' });
    const events = await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'settings.security.updated').orderBy('seq').execute();
    expect(JSON.parse(events.at(-1)!.details)).toEqual({
      fields: ['passwordHistory', 'passwordMaxAgeDays', 'mfaRequired'],
      values: ['passwordHistory=7', 'passwordMaxAgeDays=60', 'mfaRequired=none'],
    });
    await setPolicy({ passwordHistory: 5, passwordMaxAgeDays: 90 });
  });

  it('an auditor reads the policy but cannot change it; a plain user cannot read it', async () => {
    const auditor = await activeUser('policy-auditor', ['auditor']);
    const plain = await activeUser('policy-plain');
    expect((await call('GET', '/settings/security', auditor.token)).statusCode).toBe(200);
    expect((await call('PUT', '/settings/security', auditor.token, { lockoutThreshold: 3 })).json().error.code).toBe('FORBIDDEN');
    expect((await call('GET', '/settings/security', plain.token)).statusCode).toBe(403);
  });

  it('refuses out-of-range, unknown, mistyped and contradictory settings, changing nothing', async () => {
    for (const patch of [{}, { passwordMinLength: 4 }, { lockoutMinutes: 0 }, { sessionMaxHours: 48 }, { mfa: true }, { singleSession: 'yes' }, { sessionIdleMinutes: 600, sessionMaxHours: 2 }]) {
      const res = await call('PUT', '/settings/security', admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await call('GET', '/settings/security', admin.token)).json().sessionMaxHours).toBe(12);
  });

  it('a change of one field keeps every other field as it was', async () => {
    await setPolicy({ lockoutMinutes: 20 });
    expect(await setPolicy({ lockoutThreshold: 4 })).toMatchObject({ lockoutMinutes: 20, lockoutThreshold: 4 });
    await setPolicy({ lockoutMinutes: 15, lockoutThreshold: 5 });
  });

  it('is per tenant, and every change is audited field by field', async () => {
    const other = await t.tenantWithAdmin('policy-b');
    await setPolicy({ lockoutThreshold: 7, singleSession: false });
    expect((await call('GET', '/settings/security', other.token)).json().lockoutThreshold).toBe(5);
    const events = await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'settings.security.updated').orderBy('seq').execute();
    expect(JSON.parse(events.at(-1)!.details)).toEqual({ fields: ['lockoutThreshold'], values: ['lockoutThreshold=7'] });
    await setPolicy({ lockoutThreshold: 5 });
  });

  it('passwords must meet the length and character classes the tenant requires', async () => {
    await setPolicy({ passwordMinLength: 16, passwordRequireClasses: 3 });
    const user = await createUser('strict-password');
    const activate = (password: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'policy-a', token: user.activation, password } });
    expect((await activate('short Pass1')).json().error.message).toContain('at least 16');
    expect((await activate('only lower case letters here')).json().error.message).toContain('at least 3 of');
    expect((await activate('Mixed Case And 4 digits')).statusCode).toBe(200);
    await setPolicy({ passwordMinLength: 12, passwordRequireClasses: 0 });
  });

  it('locks an account after the threshold of failures, keeps its open sessions, and unlocks after the lockout time', async () => {
    await setPolicy({ lockoutThreshold: 3, lockoutMinutes: 10 });
    const victim = await activeUser('lock-me');
    for (let i = 0; i < 2; i++) expect((await login('policy-a', 'lock-me', 'wrong password!!')).statusCode).toBe(401);
    const third = await login('policy-a', 'lock-me', 'wrong password!!');
    expect(third.statusCode).toBe(403);
    expect(third.json().error.code).toBe('ACCOUNT_LOCKED');
    expect((await login('policy-a', 'lock-me')).json().error.code).toBe('ACCOUNT_LOCKED');
    expect((await call('GET', '/auth/me', victim.token)).statusCode).toBe(200);
    t.clock.advance(11 * 60_000);
    expect((await login('policy-a', 'lock-me')).statusCode).toBe(200);
    const user = await t.runtime.database.db.selectFrom('users').select(['status', 'failed_logins']).where('id', '=', victim.id).executeTakeFirstOrThrow();
    expect(user).toEqual({ status: 'active', failed_logins: 0 });
    const actions = (await t.runtime.database.db.selectFrom('audit_events').select('action').where('tenant_id', '=', admin.id).where('target_id', '=', victim.id).orderBy('seq').execute()).map((e) => e.action);
    expect(actions).toContain('auth.locked');
    await setPolicy({ lockoutThreshold: 5, lockoutMinutes: 15 });
  });

  it('an administrator can lift a lockout by reactivating the user', async () => {
    await setPolicy({ lockoutThreshold: 2 });
    const user = await activeUser('unlock-me');
    await login('policy-a', 'unlock-me', 'wrong password!!');
    expect((await login('policy-a', 'unlock-me', 'wrong password!!')).json().error.code).toBe('ACCOUNT_LOCKED');
    expect((await call('PATCH', `/users/${user.id}`, admin.token, { status: 'active' })).json().user.status).toBe('active');
    expect((await login('policy-a', 'unlock-me')).statusCode).toBe(200);
    await setPolicy({ lockoutThreshold: 5 });
  });

  it('new sessions follow the idle and maximum lifetimes; single-session mode ends the previous session', async () => {
    await setPolicy({ sessionIdleMinutes: 10, sessionMaxHours: 1, singleSession: true });
    const user = await activeUser('short-sessions');
    const first = (await login('policy-a', 'short-sessions')).json();
    expect(first.idleTimeoutSeconds).toBe(600);
    expect(Date.parse(first.expiresAt) - t.clock.now()).toBe(3600_000);
    expect((await call('GET', '/auth/me', user.token)).json().error.code).toBe('SESSION_REVOKED');
    t.clock.advance(11 * 60_000);
    expect((await call('GET', '/auth/me', first.token)).json().error.code).toBe('SESSION_EXPIRED');
    await setPolicy({ sessionIdleMinutes: 30, sessionMaxHours: 12, singleSession: false });
    expect((await login('policy-a', admin.username, ADMIN_PASSWORD)).json().idleTimeoutSeconds).toBe(1800);
  });
});
