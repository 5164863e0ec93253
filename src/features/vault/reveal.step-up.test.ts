import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

const pw = (label: string) => `Pw_${label}_Aa1-2026-xyz:=`;

describe.each(dialects)('TOTP step-up on reveal on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let bob: Awaited<ReturnType<typeof activeUser>>;
  let secret: string;
  const ids: Record<string, string> = {};

  const call = (method: 'GET' | 'POST', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const code = (at = t.clock.now()) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate({ timestamp: at });
  const reveal = (id: string, token: string, body: object = {}) => call('POST', `/credentials/${id}/reveal`, token, body);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('step-up');
    alice = await activeUser(t, admin, 'alice');
    bob = await activeUser(t, admin, 'bob');
    const enroll = await call('POST', '/auth/mfa/totp/enroll', alice.token);
    expect(enroll.statusCode, enroll.body).toBe(200);
    secret = enroll.json().secret;
    expect((await call('POST', '/auth/mfa/totp/confirm', alice.token, { code: code() })).statusCode).toBe(200);
    t.clock.advance(30_000);
    const device = (await call('POST', '/devices', admin.token, { name: 'core-sw', address: '10.0.0.1', port: 22, protocol: 'ssh' })).json().device;
    for (const name of ['guarded', 'plain']) {
      const res = await call('POST', '/credentials', admin.token, { deviceId: device.id, username: name, type: 'password', secret: pw(name), tags: [name] });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().credential.id;
    }
    const members = { users: [alice.id, bob.id] };
    // Two policies match the guarded credential: the one asking for a step-up wins over the one that does not.
    for (const [name, filters, reveal] of [
      ['step-up', { credentialTags: ['guarded'] }, { mode: 'allow', totpStepUp: true }],
      ['everything', {}, { mode: 'allow' }],
    ] as const) {
      const res = await call('POST', '/access-policies', admin.token, { name, members, filters, actions: { reveal } });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => t.close());

  it('a policy asking for a step-up refuses a reveal without a code, and any matching policy asking for it is enough', async () => {
    const res = await reveal(ids.guarded!, alice.token);
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'TOTP_STEP_UP_REQUIRED', message: expect.stringContaining('totp') });
    const preview = await call('GET', `/access-policies/evaluate?userId=${alice.id}&credentialId=${ids.guarded}&action=reveal`, admin.token);
    expect(preview.json().decision.requirements).toMatchObject({ totpStepUp: true });
    expect((await reveal(ids.plain!, alice.token)).statusCode).toBe(200);
  });

  it('a fresh code reveals the secret once; the same code again, or a wrong one, is refused and recorded', async () => {
    const fresh = code();
    const ok = await reveal(ids.guarded!, alice.token, { totp: fresh });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().secret).toBe(pw('guarded'));
    const replay = await reveal(ids.guarded!, alice.token, { totp: fresh });
    expect(replay.statusCode).toBe(403);
    expect(replay.json().error.code).toBe('TOTP_STEP_UP_FAILED');
    const wrong = String((Number(code(t.clock.now() + 120_000)) + 1) % 1_000_000).padStart(6, '0');
    t.clock.advance(30_000);
    expect((await reveal(ids.guarded!, alice.token, { totp: wrong === code() ? '000000' : wrong })).json().error.code).toBe('TOTP_STEP_UP_FAILED');
    const failures = await t.runtime.database.db.selectFrom('audit_events').select(['outcome', 'details']).where('action', '=', 'credential.step_up_failed').where('target_id', '=', ids.guarded!).orderBy('seq').execute();
    expect(failures).toHaveLength(2);
    expect(failures.every((f) => f.outcome === 'failure')).toBe(true);
    expect((await reveal(ids.guarded!, alice.token, { totp: code() })).statusCode).toBe(200);
  });

  it('a user without an authenticator is told to enrol one; a malformed code answers 400', async () => {
    const res = await reveal(ids.guarded!, bob.token, { totp: '123456' });
    expect(res.statusCode).toBe(403);
    expect(res.json().error).toMatchObject({ code: 'MFA_ENROLLMENT_REQUIRED', message: expect.stringContaining('/auth/mfa/totp/enroll') });
    for (const totp of ['12345', 'abcdef', 123456]) expect((await reveal(ids.guarded!, alice.token, { totp })).statusCode).toBe(400);
  });

  it('the policy shows totpStepUp, and a check-out asks for the code as a reveal does', async () => {
    const policies = (await call('GET', '/access-policies', admin.token)).json().accessPolicies;
    expect(policies.find((p: { name: string }) => p.name === 'step-up').actions.reveal).toMatchObject({ mode: 'allow', totpStepUp: true });
    expect(policies.find((p: { name: string }) => p.name === 'everything').actions.reveal.totpStepUp).toBeUndefined();
    expect((await call('POST', `/credentials/${ids.guarded}/checkout`, alice.token, {})).json().error.code).toBe('TOTP_STEP_UP_REQUIRED');
    t.clock.advance(30_000);
    expect((await call('POST', `/credentials/${ids.guarded}/checkout`, alice.token, { totp: code() })).statusCode).toBe(201);
  });

  // Last: it moves the clock past the other users' idle timeouts.
  it('after five wrong codes in 15 minutes every step-up is refused (429, even a right code) until the window ends', async () => {
    t.clock.advance(16 * 60_000);
    const wrong = () => (code() === '000000' ? '111111' : '000000');
    for (let i = 0; i < 5; i += 1) {
      t.clock.advance(30_000);
      expect((await reveal(ids.guarded!, alice.token, { totp: wrong() })).json().error.code).toBe('TOTP_STEP_UP_FAILED');
    }
    t.clock.advance(30_000);
    const locked = await reveal(ids.guarded!, alice.token, { totp: code() });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('TOTP_STEP_UP_LOCKED');
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // A reveal that asks for no step-up is not affected.
    expect((await reveal(ids.plain!, alice.token)).statusCode).toBe(200);
    t.clock.advance(15 * 60_000);
    const open = await reveal(ids.guarded!, alice.token, { totp: code() });
    expect(open.statusCode, open.body).toBe(200);
  });
});
