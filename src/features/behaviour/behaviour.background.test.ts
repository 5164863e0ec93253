import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { startBackgroundWork } from '../../main/background.js';

describe.each(dialects)('behaviour scoring in the background on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it("the leader's loop raises an alert a few seconds after the reveal that caused it, without being asked", async () => {
    const admin = await t.tenantWithAdmin('behave-bg');
    const alice = await activeUser(t, admin, 'alice');
    const device = (await apiCall(t, 'POST', '/devices', admin.token, { name: 'core', address: '10.0.0.9', port: 22, protocol: 'ssh', criticality: 'high' })).json().device;
    const credential = (await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: device.id, username: 'root', type: 'password', secret: 'Pw_root_Aa1-2026-xyz:=' })).json().credential;
    expect((await apiCall(t, 'POST', '/access-policies', admin.token, { name: 'Alice', members: { users: [alice.id] }, filters: { credentialUsernames: ['root'] }, actions: { reveal: { mode: 'allow' } } })).statusCode).toBe(201);
    expect((await apiCall(t, 'PUT', '/behaviour/settings', admin.token, { alertThreshold: 30 })).statusCode).toBe(200);
    const background = await startBackgroundWork(t.runtime);
    try {
      expect((await apiCall(t, 'POST', `/credentials/${credential.id}/reveal`, alice.token, {})).statusCode).toBe(200);
      const revealed = Date.now();
      let alerts: unknown[] = [];
      while (alerts.length === 0 && Date.now() - revealed < 10_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        alerts = (await apiCall(t, 'GET', '/behaviour/alerts', admin.token)).json().alerts;
      }
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ userId: alice.id, score: 35 });
      expect(Date.now() - revealed).toBeLessThan(5_000);
    } finally {
      await background.stop();
    }
  });
});
