import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { startSmtpReceiver } from './fixtures/smtp-receiver.js';

const SMTP_PASSWORD = 'Smtp-Pa55word-never-shown';
const OTHER_PASSWORD = 'Another-Smtp-Pa55word';

describe.each(dialects)('SMTP settings on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let plain: Awaited<ReturnType<typeof activeUser>>;
  let auditor: Awaited<ReturnType<typeof activeUser>>;
  let receiver: Awaited<ReturnType<typeof startSmtpReceiver>>;
  let refusing: Awaited<ReturnType<typeof startSmtpReceiver>>;

  const settings = (extra: object = {}) => ({ host: '127.0.0.1', port: receiver.port, security: 'none', username: 'custos', password: SMTP_PASSWORD, fromAddress: 'custos@acme.example', fromName: 'Custos Vault', ...extra });
  const put = (token: string, body: object) => apiCall(t, 'PUT', '/settings/smtp', token, body);
  const db = () => t.runtime.database.db;
  /** Everything stored about the tenant that a leak could hide in: settings, audit details, jobs. */
  const storedText = async (tenantId: string) => JSON.stringify([
    await db().selectFrom('tenant_settings').selectAll().where('tenant_id', '=', tenantId).execute(),
    await db().selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', tenantId).orderBy('seq').execute(),
    await db().selectFrom('jobs').selectAll().execute(),
  ]);
  const eventsOf = async (tenantId: string, action: string) => (await db().selectFrom('audit_events').select(['details', 'outcome']).where('tenant_id', '=', tenantId).where('action', '=', action).orderBy('seq').execute()).map((e) => ({ outcome: e.outcome, details: JSON.parse(e.details as string) }));

  beforeAll(async () => {
    receiver = await startSmtpReceiver({ username: 'custos', password: SMTP_PASSWORD });
    refusing = await startSmtpReceiver({ refuse: 'Message rejected: relaying denied' });
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('smtp-a');
    other = await t.tenantWithAdmin('smtp-b');
    plain = await activeUser(t, admin, 'plain');
    auditor = await activeUser(t, admin, 'auditor', ['auditor']);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
    await refusing.close();
  });

  it('an unconfigured tenant reads configured: false', async () => {
    const res = await apiCall(t, 'GET', '/settings/smtp', admin.token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ configured: false, host: null, port: null, security: null, username: null, passwordSet: false, fromAddress: null, fromName: null });
  });

  it('saving seals the password: responses show passwordSet only, and no response, audit event or stored row holds it', async () => {
    const saved = await put(admin.token, settings());
    expect(saved.statusCode, saved.body).toBe(200);
    const view = { configured: true, host: '127.0.0.1', port: receiver.port, security: 'none', username: 'custos', passwordSet: true, fromAddress: 'custos@acme.example', fromName: 'Custos Vault' };
    expect(saved.json()).toEqual(view);
    const read = await apiCall(t, 'GET', '/settings/smtp', auditor.token);
    expect(read.json()).toEqual(view);
    for (const body of [saved.body, read.body]) expect(body).not.toContain(SMTP_PASSWORD);
    expect(await storedText(admin.id)).not.toContain(SMTP_PASSWORD);
    const [event] = await eventsOf(admin.id, 'settings.smtp.updated');
    expect(event!.details).toMatchObject({ host: '127.0.0.1', username: 'custos', credentialReplaced: true, credentialSet: true });
    expect((await apiCall(t, 'GET', '/settings/smtp', other.token)).json().configured).toBe(false);
  });

  it('an omitted password keeps the stored one for the same username, and a new username needs its own', async () => {
    const kept = await put(admin.token, settings({ password: undefined, fromName: 'Vault' }));
    expect(kept.statusCode, kept.body).toBe(200);
    expect(kept.json()).toMatchObject({ passwordSet: true, fromName: 'Vault' });
    expect((await apiCall(t, 'POST', '/settings/smtp/test', admin.token, { to: 'ops@acme.example' })).statusCode).toBe(200);
    const renamed = await put(admin.token, settings({ username: 'someone-else', password: undefined }));
    expect(renamed.statusCode).toBe(400);
    expect(renamed.json().error.code).toBe('SMTP_PASSWORD_REQUIRED');
    const anonymous = await put(admin.token, settings({ username: undefined, password: undefined }));
    expect(anonymous.json()).toMatchObject({ username: null, passwordSet: false });
    expect((await put(admin.token, settings())).json().passwordSet).toBe(true);
  });

  it('the test route delivers a message through the configured server', async () => {
    const before = receiver.mails.length;
    const res = await apiCall(t, 'POST', '/settings/smtp/test', admin.token, { to: 'ops@acme.example' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ delivered: true });
    const mail = receiver.mails[before]!;
    expect(mail).toMatchObject({ from: 'custos@acme.example', to: ['ops@acme.example'] });
    expect(mail.raw).toContain('Subject: Custos test message');
    expect(receiver.logins.at(-1)).toEqual({ username: 'custos', password: SMTP_PASSWORD });
    expect((await eventsOf(admin.id, 'settings.smtp.tested')).at(-1)).toEqual({ outcome: 'success', details: expect.objectContaining({ to: 'ops@acme.example', delivered: true, error: null }) });
  });

  it('a server that refuses answers 502 SMTP_TEST_FAILED with its reply and never the password', async () => {
    expect((await put(admin.token, settings({ port: refusing.port, username: undefined, password: undefined }))).statusCode).toBe(200);
    const refused = await apiCall(t, 'POST', '/settings/smtp/test', admin.token, { to: 'ops@acme.example' });
    expect(refused.statusCode, refused.body).toBe(502);
    expect(refused.json().error.code).toBe('SMTP_TEST_FAILED');
    expect(refused.json().error.message).toContain('relaying denied');
    const badLogin = await put(admin.token, settings({ password: OTHER_PASSWORD }));
    expect(badLogin.statusCode).toBe(200);
    const denied = await apiCall(t, 'POST', '/settings/smtp/test', admin.token, { to: 'ops@acme.example' });
    expect(denied.statusCode).toBe(502);
    expect(denied.json().error.message).toContain('Authentication credentials invalid');
    for (const body of [refused.body, denied.body]) expect(body).not.toMatch(new RegExp(`${SMTP_PASSWORD}|${OTHER_PASSWORD}`));
    expect(await storedText(admin.id)).not.toMatch(new RegExp(`${SMTP_PASSWORD}|${OTHER_PASSWORD}`));
    expect((await eventsOf(admin.id, 'settings.smtp.tested')).at(-1)).toMatchObject({ outcome: 'failure', details: { delivered: false, error: expect.any(String) } });
    const nowhere = await put(admin.token, settings({ port: 1 }));
    expect(nowhere.statusCode).toBe(200);
    const unreachable = await apiCall(t, 'POST', '/settings/smtp/test', admin.token, { to: 'ops@acme.example' });
    expect(unreachable.statusCode).toBe(502);
    expect(unreachable.json().error.code).toBe('SMTP_TEST_FAILED');
    await put(admin.token, settings());
  });

  it('deleting removes the settings (audited); deleting again or testing without settings answers 404 SMTP_NOT_CONFIGURED', async () => {
    const removed = await apiCall(t, 'DELETE', '/settings/smtp', admin.token);
    expect(removed.statusCode, removed.body).toBe(204);
    expect((await apiCall(t, 'GET', '/settings/smtp', admin.token)).json().configured).toBe(false);
    const [event] = await eventsOf(admin.id, 'settings.smtp.removed');
    expect(event!.details).toMatchObject({ host: '127.0.0.1', username: 'custos' });
    for (const res of [await apiCall(t, 'DELETE', '/settings/smtp', admin.token), await apiCall(t, 'POST', '/settings/smtp/test', admin.token, { to: 'ops@acme.example' })]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('SMTP_NOT_CONFIGURED');
    }
    expect(await storedText(admin.id)).not.toContain(SMTP_PASSWORD);
    await put(admin.token, settings());
  });

  it('a plain user may neither read nor change the settings, and an auditor only reads them', async () => {
    for (const [who, method, url, body] of [
      [plain, 'GET', '/settings/smtp', undefined], [plain, 'PUT', '/settings/smtp', settings()], [plain, 'DELETE', '/settings/smtp', undefined], [plain, 'POST', '/settings/smtp/test', { to: 'x@acme.example' }],
      [auditor, 'PUT', '/settings/smtp', settings()], [auditor, 'DELETE', '/settings/smtp', undefined], [auditor, 'POST', '/settings/smtp/test', { to: 'x@acme.example' }],
    ] as const) {
      const res = await apiCall(t, method, url, who.token, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect((await apiCall(t, 'GET', '/settings/smtp', plain.token)).statusCode).toBe(403);
    expect((await apiCall(t, 'GET', '/settings/smtp', admin.token)).json().configured).toBe(true);
  });

  it('bad input answers 400 VALIDATION_FAILED and changes nothing', async () => {
    const before = (await apiCall(t, 'GET', '/settings/smtp', admin.token)).body;
    for (const body of [
      settings({ port: '25' }), settings({ port: 0 }), settings({ port: 70000 }), settings({ security: 'ssl' }), settings({ host: '' }), settings({ host: 'a b' }), settings({ host: 'x'.repeat(300) }),
      settings({ fromAddress: 'not-an-address' }), settings({ fromName: 'Evil\r\nBcc: all@acme.example' }), settings({ username: undefined }), settings({ password: 'x'.repeat(2000) }), settings({ colour: 'red' }), {},
    ]) {
      const res = await put(admin.token, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      expect(res.body).not.toContain(SMTP_PASSWORD);
    }
    for (const body of [{ to: 'nope' }, { to: 'a@b.example', cc: 'c@d.example' }, {}]) {
      const res = await apiCall(t, 'POST', '/settings/smtp/test', admin.token, body);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await apiCall(t, 'GET', '/settings/smtp', admin.token)).body).toBe(before);
  });
});
