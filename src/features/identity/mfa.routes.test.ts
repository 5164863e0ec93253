import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser } from '../../../test/support/users.js';

const OATHTOOL = '/usr/bin/oathtool';
const present = existsSync(OATHTOOL);
if (!present) {
  const line = 'oathtool is not installed: the TOTP interoperability tests are SKIPPED. Run scripts/setup-system.sh.';
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
}

/** The code an independent RFC 6238 implementation (oathtool) shows for the secret at a moment. */
const oathtool = (secret: string, at: number) => execFileSync(OATHTOOL, ['--totp', '-b', secret, '--now', `@${Math.floor(at / 1000)}`], { encoding: 'utf8' }).trim();

describe.skipIf(!present).each(dialects)('TOTP second factor on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const post = (url: string, token: string | null, payload?: object) =>
    t.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
  const login = (slug: string, username: string, totp?: string) => post('/auth/login', null, { tenant: slug, username, password: ADMIN_PASSWORD, ...(totp ? { totp } : {}) });

  /** A tenant admin with a confirmed authenticator; answers the secret and the recovery codes. */
  async function enrolled(slug: string) {
    const admin = await t.tenantWithAdmin(slug);
    const enroll = await post('/auth/mfa/totp/enroll', admin.token);
    expect(enroll.statusCode).toBe(200);
    const { secret, otpauthUrl } = enroll.json();
    expect(otpauthUrl).toMatch(new RegExp(`^otpauth://totp/Custos:${slug}%3A.*secret=${secret}`));
    const confirmed = await post('/auth/mfa/totp/confirm', admin.token, { code: oathtool(secret, t.clock.now()) });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    t.clock.advance(30_000);
    return { ...admin, secret, recoveryCodes: confirmed.json().recoveryCodes as string[] };
  }

  it('an enrolled user must give a code from any RFC 6238 app; without one the answer is MFA_REQUIRED', async () => {
    const user = await enrolled('mfa-login');
    expect(user.recoveryCodes).toHaveLength(10);
    const missing = await login('mfa-login', user.username);
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('MFA_REQUIRED');
    expect((await login('mfa-login', user.username, oathtool(user.secret, t.clock.now()))).statusCode).toBe(200);
  });

  it('accepts one step of clock skew either way, and no more', async () => {
    const user = await enrolled('mfa-skew');
    const now = t.clock.now();
    expect((await login('mfa-skew', user.username, oathtool(user.secret, now - 30_000))).statusCode).toBe(401);
    t.clock.advance(30_000);
    expect((await login('mfa-skew', user.username, oathtool(user.secret, t.clock.now() + 30_000))).statusCode).toBe(200);
    t.clock.advance(90_000);
    expect((await login('mfa-skew', user.username, oathtool(user.secret, t.clock.now() - 90_000))).json().error.code).toBe('INVALID_CREDENTIALS');
    expect((await login('mfa-skew', user.username, oathtool(user.secret, t.clock.now() - 30_000))).statusCode).toBe(200);
  });

  it('never accepts a used code twice', async () => {
    const user = await enrolled('mfa-replay');
    const code = oathtool(user.secret, t.clock.now());
    expect((await login('mfa-replay', user.username, code)).statusCode).toBe(200);
    const replay = await login('mfa-replay', user.username, code);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('INVALID_CREDENTIALS');
  });

  it('a recovery code works once, and its use is audited', async () => {
    const user = await enrolled('mfa-recovery');
    const [code] = user.recoveryCodes;
    expect((await login('mfa-recovery', user.username, code!.toUpperCase())).statusCode).toBe(200);
    expect((await login('mfa-recovery', user.username, code!)).statusCode).toBe(401);
    const stored = await t.runtime.database.db.selectFrom('mfa_recovery_codes').select('code_hash').where('tenant_id', '=', user.id).execute();
    expect(stored).toHaveLength(10);
    expect(JSON.stringify(stored)).not.toContain(code!);
    const actions = (await t.runtime.database.db.selectFrom('audit_events').select('action').where('tenant_id', '=', user.id).orderBy('seq').execute()).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.mfa.enrolled', 'auth.mfa.recovery_used']));
  });

  it('keeps the secret sealed in the database and refuses a wrong first code or a second enrolment', async () => {
    const admin = await t.tenantWithAdmin('mfa-sealed');
    const { secret } = (await post('/auth/mfa/totp/enroll', admin.token)).json();
    const row = await t.runtime.database.db.selectFrom('mfa_totp').select('secret_sealed').where('tenant_id', '=', admin.id).executeTakeFirstOrThrow();
    expect(row.secret_sealed).not.toContain(secret);
    const wrong = await post('/auth/mfa/totp/confirm', admin.token, { code: '000000' === oathtool(secret, t.clock.now()) ? '111111' : '000000' });
    expect(wrong.json().error.code).toBe('MFA_CODE_INVALID');
    expect((await post('/auth/mfa/totp/confirm', admin.token, { code: 'abc' })).json().error.code).toBe('VALIDATION_FAILED');
    expect((await post('/auth/mfa/totp/confirm', admin.token, { code: oathtool(secret, t.clock.now()) })).statusCode).toBe(200);
    expect((await post('/auth/mfa/totp/enroll', admin.token)).json().error.code).toBe('MFA_ALREADY_ENROLLED');
  });

  it('disabling needs the password again; afterwards login needs no code', async () => {
    const user = await enrolled('mfa-off');
    const session = (await login('mfa-off', user.username, oathtool(user.secret, t.clock.now()))).json().token;
    expect((await post('/auth/mfa/totp/disable', session, { password: 'not my password' })).json().error.code).toBe('INVALID_CREDENTIALS');
    expect((await post('/auth/mfa/totp/disable', session, { password: ADMIN_PASSWORD })).statusCode).toBe(204);
    expect((await login('mfa-off', user.username)).statusCode).toBe(200);
    expect((await post('/auth/mfa/totp/disable', session, { password: ADMIN_PASSWORD })).json().error.code).toBe('MFA_NOT_ENROLLED');
  });
  it("an administrator resets a lost authenticator: the user's sessions end and they log in without a code; others' users answer 404", async () => {
    const user = await enrolled('mfa-reset');
    const session = (await login('mfa-reset', user.username, oathtool(user.secret, t.clock.now()))).json().token as string;
    const helpdesk = await activeUser(t, user, 'helpdesk', ['security-admin']);
    const plain = await activeUser(t, user, 'plain-user');
    const userId = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(session) })).json().user.id as string;
    expect((await post(`/users/${userId}/mfa/reset`, plain.token)).json().error.code).toBe('FORBIDDEN');
    const stranger = await t.tenantWithAdmin('mfa-reset-other');
    expect((await post(`/users/${userId}/mfa/reset`, stranger.token)).json().error.code).toBe('USER_NOT_FOUND');
    expect((await post(`/users/${userId}/mfa/reset`, helpdesk.token)).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(session) })).statusCode).toBe(401);
    expect((await login('mfa-reset', user.username)).statusCode).toBe(200);
    expect((await post(`/users/${userId}/mfa/reset`, helpdesk.token)).json().error.code).toBe('MFA_NOT_ENROLLED');
    const event = await t.runtime.database.db.selectFrom('audit_events').select(['details']).where('tenant_id', '=', user.id).where('action', '=', 'auth.mfa.reset').executeTakeFirstOrThrow();
    expect(JSON.parse(event.details)).toEqual({ sessionsEnded: 2 });
  });
});
