import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('connectivity routes on %s', (dialect) => {
  let t: TestApp;
  let admin: { slug: string; token: string; id: string };
  let other: { slug: string; token: string; id: string };
  let deviceId: string;
  let otherDeviceId: string;

  const addDevice = async (token: string, name: string) => {
    // Loopback: the test server has no CUSTOS_TARGET_ALLOW_CIDRS, so the guard refuses it without any network traffic.
    const res = await apiCall(t, 'POST', '/devices', token, { name, address: '127.0.0.1', port: 22, protocol: 'ssh' });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().device.id as string;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('acme');
    other = await t.tenantWithAdmin('other');
    deviceId = await addDevice(admin.token, 'bastion');
    otherDeviceId = await addDevice(other.token, 'theirs');
  }, 60_000);
  afterAll(async () => t?.close());

  it('an on-demand check answers the result (a loopback target is refused with TARGET_REFUSED) and records device.checked', async () => {
    const res = await apiCall(t, 'POST', `/devices/${deviceId}/check`, admin.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ credentialId: null, check: { status: 'refused', code: 'TARGET_REFUSED', latencyMs: null, trigger: 'manual' } });
    const events = await t.runtime.database.db.selectFrom('audit_events').select(['action', 'outcome', 'target_id']).where('tenant_id', '=', admin.id).where('action', '=', 'device.checked').orderBy('seq').execute();
    expect(events).toEqual([{ action: 'device.checked', outcome: 'failure', target_id: deviceId }]);
  });

  it('the connectivity of a device has its current status and history', async () => {
    const res = await apiCall(t, 'GET', `/devices/${deviceId}/connectivity?limit=5`, admin.token);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ deviceId, current: { status: 'refused', code: 'TARGET_REFUSED' }, nextCursor: null });
    expect(body.history).toHaveLength(1);
    const never = await apiCall(t, 'GET', `/devices/${otherDeviceId}/connectivity`, other.token);
    expect(never.json()).toMatchObject({ current: null, history: [], nextCursor: null });
  });

  it('the schedule defaults to every 3 minutes, enabled, and changes are kept and audited', async () => {
    expect((await apiCall(t, 'GET', '/settings/connectivity', admin.token)).json()).toEqual({ settings: { enabled: true, intervalMinutes: 3 } });
    const put = await apiCall(t, 'PUT', '/settings/connectivity', admin.token, { intervalMinutes: 10 });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toEqual({ settings: { enabled: true, intervalMinutes: 10 } });
    expect((await apiCall(t, 'GET', '/settings/connectivity', other.token)).json().settings.intervalMinutes).toBe(3);
    const event = await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'connectivity.settings.updated').orderBy('seq').executeTakeFirstOrThrow();
    expect(JSON.parse(event.details as string)).toEqual({ enabled: true, intervalMinutes: 10 });
  });

  it('every route needs its permission: a plain user gets 403, an auditor reads but cannot check or change', async () => {
    const user = await activeUser(t, admin, 'plain');
    const auditor = await activeUser(t, admin, 'reader', ['auditor']);
    for (const [method, url, body] of [['POST', `/devices/${deviceId}/check`], ['GET', `/devices/${deviceId}/connectivity`], ['GET', '/settings/connectivity'], ['PUT', '/settings/connectivity', { enabled: false }]] as const) {
      const res = await apiCall(t, method, url, user.token, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    expect((await apiCall(t, 'GET', `/devices/${deviceId}/connectivity`, auditor.token)).statusCode).toBe(200);
    expect((await apiCall(t, 'GET', '/settings/connectivity', auditor.token)).statusCode).toBe(200);
    expect((await apiCall(t, 'POST', `/devices/${deviceId}/check`, auditor.token)).statusCode).toBe(403);
    expect((await apiCall(t, 'PUT', '/settings/connectivity', auditor.token, { enabled: false })).statusCode).toBe(403);
  });

  it("another tenant's device answers 404", async () => {
    for (const [method, url] of [['POST', `/devices/${otherDeviceId}/check`], ['GET', `/devices/${otherDeviceId}/connectivity`], ['GET', '/devices/not-an-id/connectivity']] as const) {
      const res = await apiCall(t, method, url, admin.token);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('DEVICE_NOT_FOUND');
    }
  });

  it('bad input answers 400 with a code', async () => {
    const cases = [
      ['PUT', '/settings/connectivity', { intervalMinutes: 0 }, 'VALIDATION_FAILED'],
      ['PUT', '/settings/connectivity', { intervalMinutes: 2.5 }, 'VALIDATION_FAILED'],
      ['PUT', '/settings/connectivity', {}, 'VALIDATION_FAILED'],
      ['PUT', '/settings/connectivity', { enabled: 'yes' }, 'VALIDATION_FAILED'],
      ['POST', `/devices/${deviceId}/check`, { extra: 1 }, 'VALIDATION_FAILED'],
      ['POST', `/devices/${deviceId}/check`, { credentialId: '0190a0a0-0000-7000-8000-000000000000' }, 'CONNECTIVITY_CREDENTIAL_UNUSABLE'],
      ['GET', `/devices/${deviceId}/connectivity?limit=0`, undefined, 'VALIDATION_FAILED'],
      ['GET', `/devices/${deviceId}/connectivity?cursor=nope`, undefined, 'VALIDATION_FAILED'],
    ] as const;
    for (const [method, url, body, code] of cases) {
      const res = await apiCall(t, method, url, admin.token, body);
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
  });
});
