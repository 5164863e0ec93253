import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('behaviour routes on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let sec: Awaited<ReturnType<typeof activeUser>>;
  let audrey: Awaited<ReturnType<typeof activeUser>>;
  let alertId: string;
  const db = () => t.runtime.database.db;
  const settingsEvents = () => db().selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', admin.id).where('category', '=', 'behaviour').orderBy('seq').execute();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('behave-r');
    other = await t.tenantWithAdmin('behave-s');
    alice = await activeUser(t, admin, 'alice');
    sec = await activeUser(t, admin, 'sec', ['security-admin']);
    audrey = await activeUser(t, admin, 'audrey', ['auditor']);
    // One alert: first use of a critical credential (35 points) against a threshold of 30.
    const device = (await apiCall(t, 'POST', '/devices', admin.token, { name: 'core', address: '10.0.0.9', port: 22, protocol: 'ssh', criticality: 'high' })).json().device;
    const credential = (await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: device.id, username: 'root', type: 'password', secret: 'Pw_root_Aa1-2026-xyz:=' })).json().credential;
    expect((await apiCall(t, 'POST', '/access-policies', admin.token, { name: 'Alice', members: { users: [alice.id] }, filters: { credentialUsernames: ['root'] }, actions: { reveal: { mode: 'allow' } } })).statusCode).toBe(201);
    expect((await apiCall(t, 'PUT', '/behaviour/settings', sec.token, { alertThreshold: 30 })).statusCode).toBe(200);
    expect((await apiCall(t, 'POST', `/credentials/${credential.id}/reveal`, alice.token, {})).statusCode).toBe(200);
    await t.runtime.services.behaviourConsumer.consume();
    alertId = (await apiCall(t, 'GET', '/behaviour/alerts', sec.token)).json().alerts[0].id;
  });
  afterAll(async () => t.close());

  it('settings answer their defaults and change field by field, audited', async () => {
    expect((await apiCall(t, 'GET', '/behaviour/settings', audrey.token)).json()).toEqual({ settings: { alertThreshold: 30, timeZone: 'UTC', warmUpEvents: 20, warmUpDays: 3 } });
    const res = await apiCall(t, 'PUT', '/behaviour/settings', sec.token, { timeZone: 'Europe/Paris' });
    expect(res.json()).toEqual({ settings: { alertThreshold: 30, timeZone: 'Europe/Paris', warmUpEvents: 20, warmUpDays: 3 } });
    const events = await db().selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'behaviour.settings.updated').orderBy('seq').execute();
    expect(JSON.parse(events.at(-1)!.details)).toEqual({ alertThreshold: 30, timeZone: 'Europe/Paris', warmUpEvents: 20, warmUpDays: 3 });
  });

  it('bad settings answer 400 and change nothing', async () => {
    for (const body of [{ alertThreshold: 0 }, { alertThreshold: 101 }, { alertThreshold: '70' }, { timeZone: 'Mars/Olympus' }, { warmUpDays: -1 }, { unknown: 1 }, {}]) {
      const res = await apiCall(t, 'PUT', '/behaviour/settings', sec.token, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBeTruthy();
    }
    expect((await apiCall(t, 'GET', '/behaviour/settings', sec.token)).json().settings).toMatchObject({ alertThreshold: 30, timeZone: 'Europe/Paris' });
  });

  it('lists alerts with filters and cursor pages', async () => {
    const all = (await apiCall(t, 'GET', '/behaviour/alerts', audrey.token)).json();
    expect(all.alerts).toHaveLength(1);
    expect(all.alerts[0]).toMatchObject({ id: alertId, userId: alice.id, score: 35, status: 'open', signals: [{ name: 'first_use_critical', weight: 35 }] });
    expect(all.nextCursor).toBeNull();
    const later = new Date(t.clock.now() + 60_000).toISOString();
    for (const [query, count] of [[`userId=${alice.id}`, 1], [`userId=${sec.id}`, 0], ['minScore=36', 0], ['minScore=35', 1], ['status=acknowledged', 0], [`from=${later}`, 0], [`to=${later}`, 1], ['limit=1', 1]] as const) {
      const res = await apiCall(t, 'GET', `/behaviour/alerts?${query}`, audrey.token);
      expect(res.statusCode, query).toBe(200);
      expect(res.json().alerts, query).toHaveLength(count);
    }
    expect((await apiCall(t, 'GET', `/behaviour/alerts?cursor=${alertId}`, audrey.token)).json().alerts).toEqual([]);
  });

  it('bad alert filters answer 400', async () => {
    for (const query of ['minScore=abc', 'minScore=101', 'status=closed', 'from=yesterday', 'limit=0', 'limit=1000', 'colour=red']) {
      const res = await apiCall(t, 'GET', `/behaviour/alerts?${query}`, sec.token);
      expect(res.statusCode, query).toBe(400);
    }
  });

  it("a user's posture summarises the baseline, recent scores, open alerts and the current risk", async () => {
    const res = await apiCall(t, 'GET', `/behaviour/users/${alice.id}`, audrey.token);
    expect(res.statusCode, res.body).toBe(200);
    const { posture } = res.json();
    expect(posture).toMatchObject({ userId: alice.id, warm: false, openAlerts: 1, currentRisk: 35, counts: { logins: 1, uses: 1, credentials: 1, devices: 1 } });
    expect(posture.usualSources).toEqual([{ address: '127.0.0.1', count: 2, lastSeenAt: expect.any(String) }]);
    expect(posture.hours).toHaveLength(24);
    expect(posture.recentScores.map((s: { action: string }) => s.action)).toEqual(['credential.revealed', 'auth.login.succeeded']);
    const events = (await apiCall(t, 'GET', `/behaviour/events?userId=${alice.id}&minScore=1`, audrey.token)).json();
    expect(events.events).toHaveLength(1);
    expect(events.events[0]).toMatchObject({ action: 'credential.revealed', score: 35 });
  });

  it('acknowledging an alert needs a comment, is audited, and a second time answers 409', async () => {
    const bad = await apiCall(t, 'POST', `/behaviour/alerts/${alertId}/acknowledge`, sec.token, { comment: '  ' });
    expect(bad.statusCode).toBe(400);
    expect((await apiCall(t, 'GET', `/behaviour/alerts/${alertId}`, sec.token)).json().alert.status).toBe('open');
    const res = await apiCall(t, 'POST', `/behaviour/alerts/${alertId}/acknowledge`, sec.token, { comment: 'Planned maintenance, INC-42' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().alert).toMatchObject({ status: 'acknowledged', acknowledgedBy: sec.id, comment: 'Planned maintenance, INC-42' });
    expect((await settingsEvents()).map((e) => e.action)).toEqual(['behaviour.alert', 'behaviour.alert.acknowledged']);
    const again = await apiCall(t, 'POST', `/behaviour/alerts/${alertId}/acknowledge`, sec.token, { comment: 'again' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('BEHAVIOUR_ALERT_ACKNOWLEDGED');
    expect((await apiCall(t, 'GET', '/behaviour/alerts?status=acknowledged', sec.token)).json().alerts).toHaveLength(1);
  });

  it('a user without monitoring.behaviour.read gets 403 everywhere; the auditor reads but does not write', async () => {
    for (const [method, url] of [['GET', '/behaviour/settings'], ['GET', '/behaviour/alerts'], ['GET', `/behaviour/alerts/${alertId}`], ['GET', `/behaviour/users/${alice.id}`], ['GET', `/behaviour/events?userId=${alice.id}`]] as const) {
      const res = await apiCall(t, method, url, alice.token);
      expect(res.statusCode, url).toBe(403);
    }
    expect((await apiCall(t, 'PUT', '/behaviour/settings', audrey.token, { alertThreshold: 90 })).statusCode).toBe(403);
    expect((await apiCall(t, 'POST', `/behaviour/alerts/${alertId}/acknowledge`, audrey.token, { comment: 'seen' })).statusCode).toBe(403);
    expect((await apiCall(t, 'GET', '/behaviour/settings', sec.token)).json().settings.alertThreshold).toBe(30);
  });

  it("another tenant's alert and user answer 404, and its alert list stays empty", async () => {
    for (const url of [`/behaviour/alerts/${alertId}`, `/behaviour/users/${alice.id}`, `/behaviour/events?userId=${alice.id}`, '/behaviour/users/not-an-id', '/behaviour/alerts/not-an-id']) {
      const res = await apiCall(t, 'GET', url, other.token);
      expect(res.statusCode, url).toBe(404);
    }
    const ack = await apiCall(t, 'POST', `/behaviour/alerts/${alertId}/acknowledge`, other.token, { comment: 'not mine' });
    expect(ack.statusCode).toBe(404);
    expect((await apiCall(t, 'GET', `/behaviour/alerts?userId=${alice.id}`, other.token)).json().alerts).toEqual([]);
    expect((await apiCall(t, 'GET', '/behaviour/alerts', other.token)).json().alerts).toEqual([]);
  });
});
