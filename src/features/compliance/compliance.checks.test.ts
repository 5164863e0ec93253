import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { maxAdminsFor, ratioScore, ratioStatus } from './compliance.controls.js';
import { createComplianceService } from './compliance.service.js';
import type { DestinationHealth } from './compliance.tenant-checks.js';

const DAY = 24 * 3600_000;

describe('compliance scoring rules', () => {
  it('a ratio control passes without offenders, warns from 90% compliant, fails below', () => {
    expect([ratioScore(0, 0), ratioScore(0, 10), ratioScore(1, 10), ratioScore(2, 10), ratioScore(3, 3)]).toEqual([100, 100, 90, 80, 0]);
    expect([ratioStatus(0, 100), ratioStatus(1, 90), ratioStatus(2, 80)]).toEqual(['pass', 'warn', 'fail']);
  });
  it('the admin ceiling is the larger of 3 and 10% of enabled users', () => {
    expect([maxAdminsFor(1), maxAdminsFor(30), maxAdminsFor(31), maxAdminsFor(1000)]).toEqual([3, 3, 4, 100]);
  });
});

describe.each(dialects)('compliance controls on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let health: DestinationHealth[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('checks-a');
    await apiCall(t, 'PUT', '/settings/security', admin.token, { passwordMaxAgeDays: 0 });
  });
  afterAll(async () => t.close());

  // The SIEM feature's health answer, injected: the control is tested against what it may report.
  const service = () => createComplianceService({ db: t.runtime.database.db, audit: t.runtime.audit, clock: t.clock, siemHealth: async () => health });
  const control = async (id: string) => (await service().compute(t.runtime.database.db, admin.id)).controls.find((c) => c.id === id)!;
  const created = async (url: string, body: object, key: string) => {
    const res = await apiCall(t, 'POST', url, admin.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json()[key] as { id: string };
  };

  it('unhealthy SIEM destinations are named with their error and lag; all healthy passes; none configured warns', async () => {
    health = [
      { id: 'd-1', name: 'splunk', healthy: false, lastError: 'connect ECONNREFUSED 127.0.0.1:6514', lagEvents: 42 },
      { id: 'd-2', name: 'qradar', healthy: true, lastError: null, lagEvents: 0 },
    ];
    expect(await control('siem-health')).toMatchObject({ status: 'fail', score: 50, offenderCount: 1, offenders: [{ type: 'siem_destination', id: 'd-1', label: 'splunk', detail: 'connect ECONNREFUSED 127.0.0.1:6514; 42 events waiting' }] });
    health = [{ id: 'd-2', name: 'qradar', healthy: true, lastError: null, lagEvents: 0 }];
    expect(await control('siem-health')).toMatchObject({ status: 'pass', score: 100, offenders: [] });
    health = [];
    expect(await control('siem-health')).toMatchObject({ status: 'warn', score: 50, offenders: [] });
  });

  it('more tenant-admins than the ceiling warns and lists them', async () => {
    for (const name of ['adm-1', 'adm-2', 'adm-3']) await activeUser(t, admin, name, ['tenant-admin']);
    const over = await control('admin-count');
    expect(over).toMatchObject({ status: 'warn', score: 75, offenderCount: 4 });
    expect(over.offenders.map((o) => o.label).sort()).toEqual(['adm-1', 'adm-2', 'adm-3', admin.username].sort());
  });

  it('tenant-admin held through a group counts as an admin', async () => {
    const viaGroup = await activeUser(t, admin, 'adm-via-group');
    const res = await apiCall(t, 'POST', '/groups', admin.token, { name: 'Administrators', roles: ['tenant-admin'], members: [viaGroup.id] });
    expect(res.statusCode, res.body).toBe(201);
    const result = await control('admin-count');
    expect(result.offenderCount).toBe(5);
    expect(result.offenders.map((o) => o.label)).toContain('adm-via-group');
  });

  it('policies whose {user.username} mask could reach a high-criticality credential without approval are flagged, each with its own mode', async () => {
    const me = (await apiCall(t, 'GET', '/auth/me', admin.token)).json().user.id;
    const device = await created('/devices', { name: 'core-router', address: '10.1.0.1', port: 22, protocol: 'ssh', criticality: 'high' }, 'device');
    await created('/credentials', { deviceId: device.id, username: 'jdoe', type: 'password', secret: 'router-secret-1' }, 'credential');
    const masked = await created('/access-policies', { name: 'Own accounts', members: { users: [me] }, filters: { credentialUsernames: ['{user.username}'] }, actions: { reveal: { mode: 'allow' }, session: { mode: 'allow' } } }, 'accessPolicy');
    await created('/access-policies', { name: 'Sessions only', members: { users: [me] }, filters: {}, actions: { session: { mode: 'allow' } } }, 'accessPolicy');
    await created('/access-policies', { name: 'Other names', members: { users: [me] }, filters: { credentialUsernames: ['svc-*'] }, actions: { reveal: { mode: 'allow' } } }, 'accessPolicy');
    const twin = await created('/access-policies', { name: 'Own accounts, justified', members: { users: [me] }, filters: { credentialUsernames: ['{user.username}'] }, actions: { reveal: { mode: 'justification' } } }, 'accessPolicy');
    const result = await control('policies-without-approval');
    expect(result.offenders.map((o) => [o.id, o.detail])).toEqual([
      [masked.id, 'reveal mode allow covers jdoe@core-router (high criticality) without approval'],
      [twin.id, 'reveal mode justification covers jdoe@core-router (high criticality) without approval'],
    ]);
    expect(result).toMatchObject({ status: 'fail', score: 33 });
  });

  it('a credential still at its first secret after 365 days is never rotated; a new secret clears it', async () => {
    const device = await created('/devices', { name: 'legacy-box', address: '10.1.0.9', port: 22, protocol: 'ssh' }, 'device');
    const old = await created('/credentials', { deviceId: device.id, username: 'admin', type: 'password', secret: 'legacy-secret-1' }, 'credential');
    t.clock.advance(366 * DAY);
    const listed = await control('credential-age');
    expect(listed.offenders.find((o) => o.id === old.id)).toEqual({ type: 'credential', id: old.id, label: 'admin@legacy-box', detail: expect.stringMatching(/^never rotated: first secret set \d{4}-\d{2}-\d{2} \(366 days ago\)$/) });
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: admin.slug, username: admin.username, password: ADMIN_PASSWORD } });
    expect((await apiCall(t, 'POST', `/credentials/${old.id}/secret`, login.json().token, { secret: 'legacy-secret-2' })).statusCode).toBe(200);
    expect((await control('credential-age')).offenders.map((o) => o.id)).not.toContain(old.id);
  });
});
