import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { createLogger } from '../../platform/log.js';
import { createJobQueue, createJobWorker } from '../../platform/jobs/index.js';
import { waitFor } from '../../platform/jobs/fixtures/wait.js';
import { startSmtpReceiver } from './fixtures/smtp-receiver.js';
import { notificationJobHandlers } from './notifications.jobs.js';
import { EMAIL_JOB_KIND } from './notifications.service.js';

const SMTP_PASSWORD = 'Mail-Relay-Pa55word-2026';

describe.each(dialects)('notification email on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  const people: Record<string, Awaited<ReturnType<typeof activeUser>>> = {};
  const credentials: Record<string, string> = {};
  let receiver: Awaited<ReturnType<typeof startSmtpReceiver>>;
  /** Every line the worker and the handler logged. */
  const logLines: string[] = [];

  const queue = () => createJobQueue({ db: t.runtime.database.db, dialect: t.runtime.database.dialect, clock: t.clock });
  const emailJobs = async (tenantId: string) => queue().list({ kind: EMAIL_JOB_KIND, tenantId, limit: 100 });
  /** Runs the real worker with the notifications handler until no email job of the tenant is queued or running. */
  async function runJobs(tenantId: string) {
    const log = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
    const worker = createJobWorker({ queue: queue(), handlers: notificationJobHandlers({ smtp: t.runtime.services.smtp, log }), owner: 'email-test', log, clock: t.clock, pollMs: 10 });
    worker.start();
    try {
      await waitFor(async () => (await emailJobs(tenantId)).every((j) => j.status !== 'running' && (j.status !== 'queued' || j.runAt > t.clock.now())), 10_000, 'email jobs to finish');
    } finally {
      await worker.stop(5_000);
    }
  }
  const ask = async (credential: string, extra: object = {}) => {
    const res = await apiCall(t, 'POST', '/access-requests', people.alice!.token, { credentialId: credentials[credential], justification: 'INC-7 the database is down', ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().request.id as string;
  };
  const smtpSettings = (port: number, extra: object = {}) => ({ host: '127.0.0.1', port, security: 'none', username: 'relay', password: SMTP_PASSWORD, fromAddress: 'vault@acme.example', fromName: 'Acme Vault', ...extra });

  beforeAll(async () => {
    receiver = await startSmtpReceiver({ username: 'relay', password: SMTP_PASSWORD });
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('mail-a');
    for (const name of ['alice', 'bob', 'carol']) people[name] = await activeUser(t, admin, name);
    // carol has no address (as some directory-provisioned users): she gets the inbox row only.
    await t.runtime.database.db.updateTable('users').set({ email: '' }).where('tenant_id', '=', admin.id).where('id', '=', people.carol!.id).execute();
    for (const [name, topics, email] of [['SOC', ['security-incident', 'technical'], 'soc@acme.example'], ['Billing', ['billing'], 'billing@acme.example']] as const) {
      const res = await apiCall(t, 'POST', '/focal-points', admin.token, { name, email, topics });
      expect(res.statusCode, res.body).toBe(201);
    }
    const device = (await apiCall(t, 'POST', '/devices', admin.token, { name: 'db01', address: 'db01.acme.internal', port: 5432, protocol: 'postgres' })).json().device;
    for (const name of ['break-glass', 'gated']) {
      const res = await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: device.id, username: name, type: 'password', secret: `Pw_${name}_Aa1-2026-xyz:=`, tags: [name] });
      expect(res.statusCode, res.body).toBe(201);
      credentials[name] = res.json().credential.id;
    }
    for (const [name, extra] of [['break-glass', { emergencyAllowed: true }], ['gated', {}]] as const) {
      const res = await apiCall(t, 'POST', '/access-policies', admin.token, {
        name, members: { users: [people.alice!.id], groups: [] }, filters: { credentialTags: [name] },
        actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [people.bob!.id, people.carol!.id] }, required: 1 }], approvalValidMinutes: 60, ...extra } },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it('without SMTP settings a notification is an inbox row and no email job', async () => {
    const id = await ask('gated');
    expect((await apiCall(t, 'GET', '/notifications', people.bob!.token)).json().notifications[0]).toMatchObject({ kind: 'access_request.created', link: { type: 'access_request', id } });
    expect(await emailJobs(admin.id)).toEqual([]);
    await apiCall(t, 'POST', `/access-requests/${id}/cancel`, people.alice!.token);
  });

  it('emergency access emails every approver with an address and the security-incident focal points, through the job queue', async () => {
    expect((await apiCall(t, 'PUT', '/settings/smtp', admin.token, smtpSettings(receiver.port))).statusCode).toBe(200);
    const id = await ask('break-glass', { emergency: true });
    const jobs = await emailJobs(admin.id);
    expect(jobs.map((j) => (j.payload as { to: string }).to).sort()).toEqual(['bob@x.example', 'soc@acme.example']);
    expect(JSON.stringify(jobs)).not.toContain(SMTP_PASSWORD);
    const carols = (await apiCall(t, 'GET', '/notifications', people.carol!.token)).json();
    expect(carols.notifications[0]).toMatchObject({ kind: 'access_request.emergency', link: { type: 'access_request', id } });

    const before = receiver.mails.length;
    await runJobs(admin.id);
    expect((await emailJobs(admin.id)).map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
    const mails = receiver.mails.slice(before);
    expect(mails.map((m) => m.to[0]).sort()).toEqual(['bob@x.example', 'soc@acme.example']);
    for (const mail of mails) {
      // Long headers are folded onto continuation lines.
      const raw = mail.raw.replace(/\r\n[ \t]+/g, ' ');
      expect(mail.from).toBe('vault@acme.example');
      expect(raw).toContain(`Subject: Emergency access to credential ${credentials['break-glass']}`);
      expect(mail.raw).toContain('Acme Vault');
    }
    expect(receiver.logins.at(-1)).toEqual({ username: 'relay', password: SMTP_PASSWORD });
  });

  it('an approval request emails its approver; a refusing server leaves the job to retry with backoff, its error without the password', async () => {
    const refusing = await startSmtpReceiver({ username: 'relay', password: 'not-the-configured-one' });
    try {
      expect((await apiCall(t, 'PUT', '/settings/smtp', admin.token, smtpSettings(refusing.port))).statusCode).toBe(200);
      const id = await ask('gated');
      await runJobs(admin.id);
      const [job] = (await emailJobs(admin.id)).filter((j) => (j.payload as { kind: string }).kind === 'access_request.created');
      expect(job).toMatchObject({ status: 'queued', attempts: 1, payload: expect.objectContaining({ to: 'bob@x.example' }) });
      expect(job!.runAt).toBeGreaterThan(t.clock.now());
      expect(job!.lastError).toContain('Authentication credentials invalid');
      expect(job!.lastError).not.toContain(SMTP_PASSWORD);
      expect(logLines.join('\n')).toContain('Authentication credentials invalid');
      expect(logLines.join('\n')).not.toContain(SMTP_PASSWORD);

      expect((await apiCall(t, 'PUT', '/settings/smtp', admin.token, smtpSettings(receiver.port))).statusCode).toBe(200);
      const before = receiver.mails.length;
      t.clock.advance(job!.runAt - t.clock.now() + 1);
      await runJobs(admin.id);
      expect((await queue().get(job!.id))!.status).toBe('succeeded');
      expect(receiver.mails.slice(before)).toEqual([expect.objectContaining({ to: ['bob@x.example'], raw: expect.stringContaining('Subject: Access request waiting for your approval') })]);
      await apiCall(t, 'POST', `/access-requests/${id}/cancel`, people.alice!.token);
    } finally {
      await refusing.close();
    }
  });

  it('a job whose tenant removed its SMTP settings is dropped, not retried', async () => {
    const id = await ask('gated');
    expect((await apiCall(t, 'DELETE', '/settings/smtp', admin.token)).statusCode).toBe(204);
    const before = receiver.mails.length;
    await runJobs(admin.id);
    expect((await emailJobs(admin.id)).every((j) => j.status === 'succeeded')).toBe(true);
    expect(receiver.mails.length).toBe(before);
    await apiCall(t, 'POST', `/access-requests/${id}/cancel`, people.alice!.token);
  });
});
