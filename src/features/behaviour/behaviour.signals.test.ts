import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('behaviour signals of real reveals and checkouts on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let bob: Awaited<ReturnType<typeof activeUser>>;
  const ids: Record<string, string> = {};
  const db = () => t.runtime.database.db;
  const lastScore = async (userId: string) => {
    const row = await db().selectFrom('behaviour_scores').selectAll().where('tenant_id', '=', admin.id).where('user_id', '=', userId).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    return { action: row.action, score: Number(row.score), signals: (JSON.parse(row.signals) as { name: string }[]).map((s) => s.name).sort() };
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('behave-sig');
    alice = await activeUser(t, admin, 'alice');
    bob = await activeUser(t, admin, 'bob', ['approver']);
    for (const [name, criticality] of [['db', 'low'], ['core', 'high']] as const) {
      const device = (await apiCall(t, 'POST', '/devices', admin.token, { name, address: `${name}.acme.internal`, port: 22, protocol: 'ssh', criticality })).json().device;
      for (const username of name === 'db' ? ['app', 'batch'] : ['break-glass']) {
        const res = await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: device.id, username, type: 'password', secret: `Pw_${username}_Aa1-2026-xyz:=` });
        expect(res.statusCode, res.body).toBe(201);
        ids[username] = res.json().credential.id;
      }
    }
    const policies = [
      { name: 'Everyday', members: { users: [alice.id] }, filters: { credentialUsernames: ['app', 'batch'] }, actions: { reveal: { mode: 'allow' } } },
      { name: 'Break glass', members: { users: [alice.id] }, filters: { credentialUsernames: ['break-glass'] }, actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [bob.id] }, required: 1 }], emergencyAllowed: true } } },
    ];
    for (const policy of policies) expect((await apiCall(t, 'POST', '/access-policies', admin.token, policy)).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  it('a checkout is scored like a reveal', async () => {
    const res = await apiCall(t, 'POST', `/credentials/${ids.batch}/checkout`, alice.token, { minutes: 30 });
    expect(res.statusCode, res.body).toBe(201);
    await t.runtime.services.behaviourConsumer.consume();
    expect(await lastScore(alice.id)).toEqual({ action: 'credential.checked_out', score: 0, signals: [] });
    expect((await apiCall(t, 'POST', `/credentials/${ids.batch}/checkin`, alice.token, {})).statusCode).toBe(200);
  });

  it('ten reveals within ten minutes are a reveal burst, even for a new user', async () => {
    for (let i = 0; i < 10; i++) {
      t.clock.advance(20_000);
      expect((await apiCall(t, 'POST', `/credentials/${ids.app}/reveal`, alice.token, {})).statusCode).toBe(200);
    }
    await t.runtime.services.behaviourConsumer.consume();
    const scores = await db().selectFrom('behaviour_scores').select(['action', 'score', 'signals']).where('tenant_id', '=', admin.id).where('user_id', '=', alice.id).where('action', '=', 'credential.revealed').orderBy('seq').execute();
    // The checkout counts as a use too: the 9th reveal is the 10th use.
    const fired = scores.map((s) => (JSON.parse(s.signals) as { name: string }[]).some((x) => x.name === 'reveal_burst'));
    expect(fired).toEqual([false, false, false, false, false, false, false, false, true, true]);
    expect(Number(scores.at(-1)!.score)).toBe(35);
    // 35 is under the default threshold: no alert.
    expect((await apiCall(t, 'GET', '/behaviour/alerts', admin.token)).json().alerts).toEqual([]);
  });

  it('an emergency reveal of a critical credential raises an alert during warm-up', async () => {
    // Past the burst window, within the session's idle timeout.
    t.clock.advance(20 * 60_000);
    const request = await apiCall(t, 'POST', '/access-requests', alice.token, { credentialId: ids['break-glass'], justification: 'INC-9 outage, bob unreachable', emergency: true });
    expect(request.statusCode, request.body).toBe(201);
    const res = await apiCall(t, 'POST', `/credentials/${ids['break-glass']}/reveal`, alice.token, { requestId: request.json().request.id });
    expect(res.statusCode, res.body).toBe(200);
    await t.runtime.services.behaviourConsumer.consume();
    expect(await lastScore(alice.id)).toEqual({ action: 'credential.revealed', score: 80, signals: ['emergency_access', 'first_use_critical'] });
    const alerts = (await apiCall(t, 'GET', `/behaviour/alerts?userId=${alice.id}`, admin.token)).json().alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ score: 80, action: 'credential.revealed' });
    const posture = (await apiCall(t, 'GET', `/behaviour/users/${alice.id}`, admin.token)).json().posture;
    expect(posture).toMatchObject({ warm: false, openAlerts: 1, currentRisk: 80, counts: { uses: 12 } });
  });
});
