import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall, USER_PASSWORD } from '../../../test/support/users.js';
import { createLogger } from '../../platform/log.js';
import { createJobQueue, createJobWorker } from '../../platform/jobs/index.js';
import { waitFor } from '../../platform/jobs/fixtures/wait.js';
import { startSmtpReceiver } from '../notifications/fixtures/smtp-receiver.js';
import { notificationJobHandlers } from '../notifications/notifications.jobs.js';
import { EMAIL_JOB_KIND } from '../notifications/notifications.service.js';
import { createBehaviourConsumer } from './behaviour.consumer.js';

const SECRET = 'Pw_core_Aa1-2026-xyz:=';
const HOME = '10.1.1.1';
const AWAY = '203.0.113.50';

describe.each(dialects)('behaviour analytics over real flows on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let sam: Awaited<ReturnType<typeof activeUser>>;
  let receiver: Awaited<ReturnType<typeof startSmtpReceiver>>;
  const ids: Record<string, string> = {};
  const db = () => t.runtime.database.db;
  const consume = () => t.runtime.services.behaviourConsumer.consume();
  const scores = (userId: string) => db().selectFrom('behaviour_scores').selectAll().where('tenant_id', '=', admin.id).where('user_id', '=', userId).orderBy('seq').execute();
  const alertEvents = () => db().selectFrom('audit_events').selectAll().where('tenant_id', '=', admin.id).where('action', '=', 'behaviour.alert').orderBy('seq').execute();

  /** Logs alice in from an address and answers the session token. */
  async function login(username: string, ip: string, password = USER_PASSWORD) {
    return t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: admin.slug, username, password }, remoteAddress: ip });
  }
  async function reveal(token: string, credential: string, ip: string) {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/credentials/${ids[credential]}/reveal`, headers: bearer(token), payload: {}, remoteAddress: ip });
    expect(res.statusCode, res.body).toBe(200);
  }
  /** A fresh session of the admin or sam: the clock moves by days here, and sessions expire. */
  async function tokenOf(who: 'admin' | 'sam') {
    const res = who === 'admin' ? await login(admin.username, '127.0.0.1', admin.password) : await login('sam', '127.0.0.1');
    expect(res.statusCode, res.body).toBe(200);
    return res.json().token as string;
  }
  /** Moves the test clock to a day (0 = the start day) and UTC hour. */
  const at = (day: number, hour: number) => t.clock.set(Date.UTC(2026, 0, 5 + day, hour, 0, 0));

  beforeAll(async () => {
    receiver = await startSmtpReceiver({ username: 'relay', password: 'Mail-Relay-Pa55word-2026' });
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('behave-a');
    alice = await activeUser(t, admin, 'alice');
    sam = await activeUser(t, admin, 'sam', ['security-admin']);
    expect((await apiCall(t, 'POST', '/focal-points', admin.token, { name: 'SOC', email: 'soc@acme.example', topics: ['security-incident'] })).statusCode).toBe(201);
    const smtp = { host: '127.0.0.1', port: receiver.port, security: 'none', username: 'relay', password: 'Mail-Relay-Pa55word-2026', fromAddress: 'vault@acme.example' };
    expect((await apiCall(t, 'PUT', '/settings/smtp', admin.token, smtp)).statusCode).toBe(200);
    for (const [name, criticality] of [['db01', 'low'], ['core01', 'high']] as const) {
      const device = (await apiCall(t, 'POST', '/devices', admin.token, { name, address: `${name}.acme.internal`, port: 22, protocol: 'ssh', criticality })).json().device;
      const res = await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: device.id, username: name === 'db01' ? 'app' : 'root', type: 'password', secret: SECRET });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().credential.id;
    }
    const policy = await apiCall(t, 'POST', '/access-policies', admin.token, { name: 'Alice uses', members: { users: [alice.id] }, filters: { credentialUsernames: ['app', 'root'] }, actions: { reveal: { mode: 'allow' } } });
    expect(policy.statusCode, policy.body).toBe(201);
    // A short warm-up keeps the test quick; the defaults (20 events over 3 days) are covered by the scoring tests.
    expect((await apiCall(t, 'PUT', '/behaviour/settings', admin.token, { warmUpEvents: 10, warmUpDays: 2 })).statusCode).toBe(200);
  });
  afterAll(async () => {
    await t.close();
    await receiver.close();
  });

  it("a new user's first logins and reveals score low: no alert during warm-up", async () => {
    for (const day of [0, 1, 2]) {
      for (const hour of [9, 11, 14]) {
        at(day, hour);
        const session = await login('alice', HOME);
        expect(session.statusCode, session.body).toBe(200);
        await reveal(session.json().token, 'db01', HOME);
      }
    }
    const done = await consume();
    expect(done.alerts).toBe(0);
    const mine = await scores(alice.id);
    // The first login is the one that activated alice (from the default test address).
    expect(mine.map((s) => s.action)).toEqual(['auth.login.succeeded', ...Array.from({ length: 9 }, () => ['auth.login.succeeded', 'credential.revealed']).flat()]);
    expect(Math.max(...mine.map((s) => Number(s.score)))).toBe(0);
    expect(await alertEvents()).toEqual([]);
  });

  it('routine behaviour after the warm-up still scores 0', async () => {
    at(3, 10);
    const session = await login('alice', HOME);
    await reveal(session.json().token, 'db01', HOME);
    await consume();
    expect((await scores(alice.id)).slice(-2).map((s) => [Number(s.score), JSON.parse(s.signals)])).toEqual([[0, []], [0, []]]);
  });

  it('a login from a new address at an unusual hour scores below the threshold and raises no alert', async () => {
    at(4, 3);
    const session = await login('alice', AWAY);
    expect(session.statusCode).toBe(200);
    ids.awayToken = session.json().token;
    await consume();
    const [last] = (await scores(alice.id)).slice(-1);
    expect(last).toMatchObject({ action: 'auth.login.succeeded', score: 50, source_ip: AWAY });
    expect(JSON.parse(last!.signals).map((s: { name: string }) => s.name).sort()).toEqual(['new_source', 'unusual_hour']);
    expect(await alertEvents()).toEqual([]);
  });

  it('first use of a critical credential from there raises an alert: stored, audited for the SIEM, in the inbox and mailed to the focal point', async () => {
    t.clock.advance(60_000);
    await reveal(ids.awayToken!, 'core01', AWAY);
    const done = await consume();
    expect(done).toMatchObject({ alerts: 1 });
    const [score] = (await scores(alice.id)).slice(-1);
    expect(score).toMatchObject({ action: 'credential.revealed', target_id: ids.core01, score: 95 });
    const signals = JSON.parse(score!.signals).map((s: { name: string }) => s.name).sort();
    expect(signals).toEqual(['first_use_critical', 'first_use_device', 'new_source', 'unusual_hour']);

    const alerts = (await apiCall(t, 'GET', '/behaviour/alerts', await tokenOf('sam'))).json().alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ userId: alice.id, score: 95, seq: Number(score!.seq), status: 'open', action: 'credential.revealed', eventCount: 1 });

    const [event] = await alertEvents();
    expect(event).toMatchObject({ category: 'behaviour', type_id: 7201, actor_kind: 'system', target_type: 'user', target_id: alice.id });
    expect(JSON.parse(event!.details)).toEqual({ alertId: alerts[0].id, userId: alice.id, username: 'alice', score: 95, signals: expect.arrayContaining(signals), seq: Number(score!.seq), scoredAction: 'credential.revealed', sourceIp: AWAY });
    expect(JSON.stringify(event)).not.toContain(SECRET);

    const inbox = (await apiCall(t, 'GET', '/notifications', await tokenOf('sam'))).json().notifications;
    expect(inbox[0]).toMatchObject({ kind: 'behaviour.alert', link: { type: 'behaviour_alert', id: alerts[0].id } });
    const queue = createJobQueue({ db: db(), dialect: t.runtime.database.dialect, clock: t.clock });
    const jobs = await queue.list({ kind: EMAIL_JOB_KIND, tenantId: admin.id, limit: 10 });
    expect(jobs.map((j) => (j.payload as { to: string }).to).sort()).toEqual(['sam@x.example', 'soc@acme.example']);
    const log = createLogger({ level: 'silent' });
    const worker = createJobWorker({ queue, handlers: notificationJobHandlers({ smtp: t.runtime.services.smtp, log }), owner: 'behaviour-test', log, clock: t.clock, pollMs: 10 });
    worker.start();
    try {
      await waitFor(async () => receiver.mails.length >= 2, 10_000, 'alert mails');
    } finally {
      await worker.stop(5_000);
    }
    const mail = receiver.mails.find((m) => m.to.includes('soc@acme.example'))!;
    expect(mail.raw.replace(/\r\n[ \t]+/g, ' ')).toContain('Subject: Unusual behaviour of alice: risk 95');
    expect(mail.raw).not.toContain(SECRET);
  });

  it('another high score of the user within 15 minutes joins the open alert instead of raising another', async () => {
    // A third address: new_source alone (30 points) is at the threshold now.
    expect((await apiCall(t, 'PUT', '/behaviour/settings', await tokenOf('admin'), { alertThreshold: 30 })).statusCode).toBe(200);
    t.clock.advance(60_000);
    const secret = await t.app.inject({ method: 'POST', url: `/api/v1/credentials/${ids.db01}/reveal`, headers: bearer(ids.awayToken!), payload: {}, remoteAddress: '198.51.100.7' });
    expect(secret.statusCode).toBe(200);
    await consume();
    const alerts = (await apiCall(t, 'GET', '/behaviour/alerts', await tokenOf('sam'))).json().alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ eventCount: 2, score: 95 });
    expect(alerts[0].lastSeq).toBeGreaterThan(alerts[0].seq);
    expect(await alertEvents()).toHaveLength(1);
    expect((await apiCall(t, 'PUT', '/behaviour/settings', await tokenOf('admin'), { alertThreshold: 70 })).statusCode).toBe(200);
  });

  it('the alert event itself is never scored, and the cursor survives a restart: nothing is scored twice', async () => {
    await consume(); // the logins the previous test made for its calls
    const before = await db().selectFrom('behaviour_scores').select('seq').where('tenant_id', '=', admin.id).execute();
    expect(await consume()).toMatchObject({ scored: 0, alerts: 0 });
    // A fresh consumer (a restarted or newly elected leader) starts from the stored cursor.
    const restarted = createBehaviourConsumer({ db: db(), audit: t.runtime.audit, clock: t.clock, notify: t.runtime.services.notifications.notify });
    expect(await restarted.consume()).toMatchObject({ scored: 0 });
    at(5, 10);
    expect((await login('alice', HOME)).statusCode).toBe(200);
    expect(await restarted.consume()).toMatchObject({ scored: 1 });
    const after = await db().selectFrom('behaviour_scores').select(['seq', 'action']).where('tenant_id', '=', admin.id).execute();
    expect(after).toHaveLength(before.length + 1);
    expect(new Set(after.map((s) => Number(s.seq))).size).toBe(after.length);
    const scoredActions = new Set(after.map((s) => s.action));
    expect(scoredActions.has('behaviour.alert')).toBe(false);
  });

  it('scoring without alerts leaves the SQLite change marker (the resolution caches stay warm)', async () => {
    at(5, 10);
    expect((await login('alice', HOME)).statusCode).toBe(200);
    const marker = t.runtime.database.changeMarker();
    expect(await consume()).toMatchObject({ scored: 1, alerts: 0 });
    expect(t.runtime.database.changeMarker()).toBe(marker);
  });

  it("a failed-login burst is scored on the user's failures, and alerts once the threshold allows it", async () => {
    expect((await apiCall(t, 'PUT', '/behaviour/settings', await tokenOf('admin'), { alertThreshold: 40 })).statusCode).toBe(200);
    at(5, 11);
    for (let i = 0; i < 5; i++) {
      t.clock.advance(30_000);
      expect((await login('sam', HOME, 'not the password')).statusCode).toBeGreaterThanOrEqual(400);
    }
    await consume();
    const samScores = await scores(sam.id);
    const failures = samScores.filter((s) => s.action === 'auth.login.failed');
    expect(failures.map((s) => Number(s.score))).toEqual([0, 0, 0, 0, 40]);
    expect(JSON.parse(failures[4]!.signals)[0]).toMatchObject({ name: 'failed_login_burst' });
    const alerts = (await apiCall(t, 'GET', `/behaviour/alerts?userId=${sam.id}`, await tokenOf('admin'))).json().alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0].signals.map((s: { name: string }) => s.name)).toEqual(['failed_login_burst']);
  });
});
