import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall, USER_PASSWORD } from '../../../test/support/users.js';
import { parseCsv } from '../transfer/csv.js';
import { complianceJobHandlers } from './compliance.jobs.js';
import { createLogger } from '../../platform/log.js';

const DAY = 24 * 3600_000;
type Control = { id: string; status: string; score: number; offenderCount: number; offenders: { type: string; id: string; label: string; detail: string }[] };

describe.each(dialects)('compliance report on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  const secrets = new Map<string, string>();
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('comp-a');
    other = await t.tenantWithAdmin('comp-b');
    // A fixture choice: the clock moves months here, and expired passwords would only restrict the sessions.
    expect((await apiCall(t, 'PUT', '/settings/security', admin.token, { passwordMaxAgeDays: 0 })).statusCode).toBe(200);
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const code = (username: string) => new TOTP({ secret: Secret.fromBase32(secrets.get(username)!) }).generate({ timestamp: t.clock.now() });
  /** Logs in again (sessions idle-expire when the clock moves), with a TOTP code once the user enrolled one. */
  async function login(slug: string, username: string, password: string) {
    t.clock.advance(31_000); // a fresh TOTP step: a code is never accepted twice
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: slug, username, password, ...(secrets.has(username) ? { totp: code(username) } : {}) } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().token as string;
  }
  const relogAdmin = async () => { admin = { ...admin, token: await login(admin.slug, admin.username, ADMIN_PASSWORD) }; };
  async function enrol(token: string, username: string) {
    const { secret } = (await call('POST', '/auth/mfa/totp/enroll', token)).json();
    secrets.set(username, secret);
    expect((await call('POST', '/auth/mfa/totp/confirm', token, { code: code(username) })).statusCode).toBe(200);
  }
  const report = async (token = admin.token) => {
    const res = await call('GET', '/compliance/report', token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { score: number; generatedAt: string; controls: Control[] };
  };
  const control = async (id: string, token?: string) => (await report(token)).controls.find((c) => c.id === id)!;
  const labels = (c: Control) => c.offenders.map((o) => o.label).sort();
  const created = async (url: string, body: object, key: string) => {
    const res = await call('POST', url, admin.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json()[key] as { id: string; name: string };
  };
  const auditOf = (tenantId: string, action: string) => t.runtime.database.db.selectFrom('audit_events').select(['action', 'target_id', 'details', 'actor_id']).where('tenant_id', '=', tenantId).where('action', '=', action).orderBy('seq').execute();

  it('every control fails naming exactly its offenders; fixing them through the API makes them pass', async () => {
    const alice = await activeUser(t, admin, 'alice');
    const bob = await activeUser(t, admin, 'bob');
    await created('/credential-policies', { name: 'Databases 30 days', filters: { deviceTypes: ['database'] }, rules: { minLength: 8, requireClasses: [], maxAgeDays: 30 } }, 'policy');
    const db = await created('/devices', { name: 'db-prod', address: '10.0.0.5', port: 5432, protocol: 'ssh', type: 'database', criticality: 'high' }, 'device');
    const web = await created('/devices', { name: 'web-1', address: '10.0.0.6', port: 22, protocol: 'ssh', type: 'linux', criticality: 'low' }, 'device');
    const root = await created('/credentials', { deviceId: db.id, username: 'root', type: 'password', secret: 'an-old-database-secret' }, 'credential');
    const deploy = await created('/credentials', { deviceId: web.id, username: 'deploy', type: 'password', secret: 'a web secret of its own' }, 'credential');
    const open = await created('/access-policies', { name: 'Open databases', members: { users: [alice.id] }, filters: { deviceNames: ['db-*'] }, actions: { reveal: { mode: 'justification' } } }, 'accessPolicy');
    await created('/access-policies', { name: 'Approved databases', members: { users: [bob.id] }, filters: { deviceNames: ['db-*'] }, actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [alice.id] }, required: 1 }] } } }, 'accessPolicy');
    await created('/access-policies', { name: 'Web servers', members: { users: [bob.id] }, filters: { deviceNames: ['web-*'] }, actions: { reveal: { mode: 'allow' } } }, 'accessPolicy');
    t.clock.advance(31 * DAY);
    await relogAdmin();
    // The heartbeat's verdict (tested against real targets in the rotation feature): deploy's secret no longer logs in.
    await t.runtime.database.db.insertInto('credential_heartbeats').values({ tenant_id: admin.id, credential_id: deploy.id, status: 'out_of_sync', error_code: null, checked_at: t.clock.now(), changed_at: t.clock.now() - 2 * DAY }).execute();

    const before = await report();
    const byId = new Map(before.controls.map((c) => [c.id, c]));
    expect(labels(byId.get('users-without-mfa')!)).toEqual(['alice', 'bob', admin.username].sort());
    expect(byId.get('users-without-mfa')).toMatchObject({ status: 'fail', score: 0, offenderCount: 3 });
    expect(byId.get('admin-count')).toMatchObject({ status: 'fail', score: 50, offenders: [{ type: 'user', label: admin.username }] });
    expect(byId.get('credential-age')).toMatchObject({ status: 'fail', offenderCount: 1, offenders: [{ type: 'credential', id: root.id, label: 'root@db-prod', detail: expect.stringContaining('"Databases 30 days" allows 30 days') }] });
    expect(byId.get('credential-age')!.score).toBe(50);
    expect(byId.get('credentials-out-of-sync')).toMatchObject({ status: 'fail', score: 50, offenderCount: 1, offenders: [{ type: 'credential', id: deploy.id, label: 'deploy@web-1', detail: expect.stringContaining('refused since') }] });
    expect(byId.get('policies-without-approval')).toMatchObject({ status: 'fail', offenderCount: 1, offenders: [{ type: 'access_policy', id: open.id, label: 'Open databases', detail: expect.stringContaining('root@db-prod') }] });
    expect(byId.get('security-incident-focal-point')).toMatchObject({ status: 'fail', score: 0, offenders: [{ type: 'tenant', id: admin.id }] });
    expect(byId.get('network-allowlist')).toMatchObject({ status: 'fail', score: 0, offenders: [{ type: 'tenant', id: admin.id }] });
    expect(byId.get('inactive-users')).toMatchObject({ status: 'pass', offenders: [] });
    expect(byId.get('policies-not-reviewed')).toMatchObject({ status: 'pass', offenders: [] });
    expect(byId.get('siem-health')).toMatchObject({ status: 'warn', offenderCount: 0 });
    expect(before.score).toBe(Math.round(before.controls.reduce((s, c) => s + c.score, 0) / 10));

    // Fix each: MFA for the admin and a second admin, the others leave; rotate; ask for approval; add a focal point and an allowlist.
    await enrol(admin.token, admin.username);
    const carol = await activeUser(t, admin, 'carol', ['tenant-admin']);
    await enrol(carol.token, 'carol');
    for (const user of [alice, bob]) expect((await call('PATCH', `/users/${user.id}`, admin.token, { status: 'inactive' })).statusCode).toBe(200);
    expect((await call('POST', `/credentials/${root.id}/secret`, admin.token, { secret: 'a-fresh-database-secret' })).statusCode).toBe(200);
    // A secret set after the heartbeat's verdict makes that verdict stale.
    t.clock.advance(1_000);
    expect((await call('POST', `/credentials/${deploy.id}/secret`, admin.token, { secret: 'the reset web secret' })).statusCode).toBe(200);
    expect((await call('PATCH', `/access-policies/${open.id}`, admin.token, { actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [carol.id] }, required: 1 }] } } })).statusCode).toBe(200);
    await created('/focal-points', { name: 'SOC', email: 'soc@acme.example', topics: ['security-incident'] }, 'focalPoint');
    expect((await call('PUT', '/settings/network', admin.token, { allowedCidrs: ['127.0.0.0/8'] })).statusCode).toBe(200);
    const after = await report();
    expect(after.controls.filter((c) => c.status !== 'pass').map((c) => c.id)).toEqual(['siem-health']);
    expect(after.controls.every((c) => c.id === 'siem-health' || (c.score === 100 && c.offenders.length === 0))).toBe(true);
    expect(after.score).toBeGreaterThan(before.score);
  });

  it('the CSV report parses, has one row per offender, and quotes cells so no formula runs', async () => {
    const member = (await call('GET', '/auth/me', admin.token)).json().user.id;
    await created('/access-policies', { name: '=HYPERLINK("http://evil.example","x"),1', members: { users: [member] }, filters: { deviceNames: ['db-*'] }, actions: { reveal: { mode: 'allow' } } }, 'accessPolicy');
    for (const res of [
      await t.app.inject({ method: 'GET', url: '/api/v1/compliance/report?format=csv', headers: { authorization: `Bearer ${admin.token}` } }),
      await t.app.inject({ method: 'GET', url: '/api/v1/compliance/report', headers: { authorization: `Bearer ${admin.token}`, accept: 'text/csv' } }),
    ]) {
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const rows = parseCsv(res.body);
      expect(rows[0]).toEqual(['control', 'title', 'status', 'score', 'offender_count', 'offender_type', 'offender_id', 'offender_label', 'offender_detail']);
      expect(rows[1]![0]).toBe('overall');
      const evil = rows.find((r) => r[0] === 'policies-without-approval')!;
      expect(evil.slice(2, 8)).toEqual(['fail', expect.any(String), '1', 'access_policy', expect.any(String), `'=HYPERLINK("http://evil.example","x"),1`]);
      expect(res.body).toContain(`"'=HYPERLINK(""http://evil.example"",""x""),1"`);
      expect(rows.filter((r) => r[0] === 'siem-health')).toHaveLength(1);
      expect(rows.every((r) => r.length === 9)).toBe(true);
    }
    expect((await call('GET', '/compliance/report?format=xml', admin.token)).json().error.code).toBe('VALIDATION_FAILED');
  });

  it('a real SIEM destination that is disabled is named as unhealthy; enabled and not behind it passes', async () => {
    const res = await call('POST', '/siem/destinations', admin.token, { name: 'Wazuh UDP', host: 'siem.acme.example', port: 514, transport: 'udp', format: 'rfc5424', enabled: false });
    expect(res.statusCode, res.body).toBe(201);
    const destination = res.json().destination as { id: string };
    expect(await control('siem-health')).toMatchObject({ status: 'fail', score: 0, offenderCount: 1, offenders: [{ type: 'siem_destination', id: destination.id, label: 'Wazuh UDP' }] });
    expect((await call('PATCH', `/siem/destinations/${destination.id}`, admin.token, { enabled: true })).statusCode).toBe(200);
    expect(await control('siem-health')).toMatchObject({ status: 'pass', score: 100, offenders: [] });
  });

  it('the routes are documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/api/v1/compliance/report'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/v1/compliance/reports'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/v1/access-policies/{id}/review'])).toEqual(['post']);
  });

  it('reading needs monitoring.compliance.read (security-admin, auditor) and reviewing access.policies.review (vault-admin, security-admin)', async () => {
    const plain = await activeUser(t, admin, 'plain-user');
    const auditor = await activeUser(t, admin, 'the-auditor', ['auditor']);
    const vaultAdmin = await activeUser(t, admin, 'vault-keeper', ['vault-admin']);
    const securityAdmin = await activeUser(t, admin, 'sec-lead', ['security-admin']);
    const policy = (await call('GET', '/access-policies', admin.token)).json().accessPolicies[0];
    for (const [method, url, payload, permission] of [
      ['GET', '/compliance/report', undefined, 'monitoring.compliance.read'],
      ['GET', '/compliance/reports', undefined, 'monitoring.compliance.read'],
      ['POST', `/access-policies/${policy.id}/review`, { comment: 'fine' }, 'access.policies.review'],
    ] as const) {
      const res = await call(method, url, plain.token, payload);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining(permission) });
    }
    expect((await call('GET', '/compliance/report', auditor.token)).statusCode).toBe(200);
    expect((await call('GET', '/compliance/reports', securityAdmin.token)).statusCode).toBe(200);
    expect((await call('GET', '/compliance/report', vaultAdmin.token)).statusCode).toBe(403);
    expect((await call('POST', `/access-policies/${policy.id}/review`, auditor.token, {})).statusCode).toBe(403);
    expect((await call('POST', `/access-policies/${policy.id}/review`, vaultAdmin.token, {})).statusCode).toBe(201);
    expect((await call('POST', `/access-policies/${policy.id}/review`, securityAdmin.token, { comment: 'checked' })).statusCode).toBe(201);
    expect((await auditOf(admin.id, 'access_policy.reviewed')).map((e) => e.actor_id)).toEqual([vaultAdmin.id, securityAdmin.id]);
  });

  it("another tenant's policy id answers 404 and bad input 400, recording nothing", async () => {
    other = { ...other, token: await login(other.slug, other.username, ADMIN_PASSWORD) };
    const mine = (await call('GET', '/access-policies', admin.token)).json().accessPolicies[0];
    const reviews = async () => (await t.runtime.database.db.selectFrom('access_policy_reviews').select('id').execute()).length;
    const before = { reviews: await reviews(), events: (await auditOf(admin.id, 'access_policy.reviewed')).length };
    for (const id of [mine.id, 'not-an-id', '00000000-0000-7000-8000-000000000000']) {
      const res = await call('POST', `/access-policies/${id}/review`, other.token, { comment: 'hijack' });
      expect(res.statusCode, id).toBe(404);
      expect(res.json().error.code).toBe('ACCESS_POLICY_NOT_FOUND');
    }
    for (const body of [{ comment: 42 }, { comment: '   ' }, { comment: 'x'.repeat(1001) }, { comment: 'ok', approved: true }]) {
      const res = await call('POST', `/access-policies/${mine.id}/review`, admin.token, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    for (const query of ['from=2026-13-01', 'from=yesterday', 'to=2026-02-30', 'from=2026-03-01&to=2026-02-01', 'limit=0', 'limit=1001', 'unknown=1']) {
      const res = await call('GET', `/compliance/reports?${query}`, admin.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect({ reviews: await reviews(), events: (await auditOf(admin.id, 'access_policy.reviewed')).length }).toEqual(before);
    expect((await report(other.token)).controls.find((c) => c.id === 'policies-not-reviewed')!.offenders).toEqual([]);
  });

  it('the daily job keeps one row per tenant per day (a re-run replaces it, with one audit event); the trend lists them newest first', async () => {
    const keep = complianceJobHandlers({ compliance: t.runtime.services.compliance, log: createLogger({ level: 'silent' }) })['compliance.keep-daily'];
    const rows = async () => t.runtime.database.db.selectFrom('compliance_reports').selectAll().where('tenant_id', '=', admin.id).orderBy('day').execute();
    await keep();
    await keep();
    expect(await rows()).toHaveLength(1);
    t.clock.advance(DAY);
    await keep();
    await relogAdmin();
    const kept = await rows();
    expect(kept.map((r) => r.day)).toHaveLength(2);
    expect((await auditOf(admin.id, 'compliance.report.kept')).map((e) => e.target_id)).toEqual(kept.map((r) => r.day));
    const trend = (await call('GET', '/compliance/reports', admin.token)).json().reports;
    expect(trend.map((r: { day: string }) => r.day)).toEqual(kept.map((r) => r.day).reverse());
    expect(trend[0].controls.map((c: { id: string }) => c.id)).toContain('credential-age');
    expect(trend[0].controls[0]).toEqual({ id: 'users-without-mfa', status: expect.any(String), score: expect.any(Number), offenderCount: expect.any(Number) });
    expect(trend[0].score).toBe((await report()).score);
    const only = (await call('GET', `/compliance/reports?from=${kept[1]!.day}&to=${kept[1]!.day}`, admin.token)).json().reports;
    expect(only.map((r: { day: string }) => r.day)).toEqual([kept[1]!.day]);
    const theirs = (await call('GET', '/compliance/reports', await login(other.slug, other.username, ADMIN_PASSWORD))).json().reports;
    expect(theirs.map((r: { day: string }) => r.day)).toEqual(kept.map((r) => r.day).reverse());
    expect(theirs[0].controls.find((c: { id: string }) => c.id === 'credential-age').offenderCount).toBe(0);
  });

  it('a policy neither reviewed nor changed in 90 days is listed until reviewed; a change also counts as a review', async () => {
    const member = (await call('GET', '/auth/me', admin.token)).json().user.id;
    const stale = await created('/access-policies', { name: 'Stale', members: { users: [member] }, filters: { deviceNames: ['web-*'] }, actions: { reveal: { mode: 'allow' } } }, 'accessPolicy');
    const changed = await created('/access-policies', { name: 'Changed', members: { users: [member] }, filters: { deviceNames: ['web-*'] }, actions: { history: { mode: 'allow' } } }, 'accessPolicy');
    t.clock.advance(91 * DAY);
    await relogAdmin();
    const listed = await control('policies-not-reviewed');
    expect(listed.status).toBe('fail');
    expect(labels(listed)).toEqual(expect.arrayContaining(['Stale', 'Changed']));
    const review = await call('POST', `/access-policies/${stale.id}/review`, admin.token, { comment: 'Still needed by the web team' });
    expect(review.statusCode, review.body).toBe(201);
    expect(review.json().review).toEqual({ id: expect.any(String), policyId: stale.id, reviewerId: member, comment: 'Still needed by the web team', reviewedAt: new Date(t.clock.now()).toISOString() });
    expect((await call('PATCH', `/access-policies/${changed.id}`, admin.token, { description: 'Read history of web servers' })).statusCode).toBe(200);
    const now = await control('policies-not-reviewed');
    expect(labels(now)).not.toContain('Stale');
    expect(labels(now)).not.toContain('Changed');
    const [event] = (await auditOf(admin.id, 'access_policy.reviewed')).filter((e) => e.target_id === stale.id);
    expect(JSON.parse(event!.details)).toEqual({ name: 'Stale', comment: 'Still needed by the web team' });
    expect(await t.runtime.audit.verify(t.runtime.database.db, admin.id)).toMatchObject({ ok: true });
  });

  it('enabled users inactive longer than inactivityDisableDays are listed; a limit of 0 warns', async () => {
    const sleeper = await activeUser(t, admin, 'sleeper');
    t.clock.advance(91 * DAY);
    await relogAdmin();
    const listed = await control('inactive-users');
    expect(listed.offenders.map((o) => o.label)).toContain('sleeper');
    expect(listed.offenders.map((o) => o.label)).not.toContain(admin.username);
    expect(listed.offenders.find((o) => o.label === 'sleeper')).toEqual({ type: 'user', id: sleeper.id, label: 'sleeper', detail: 'no sign-in for more than 90 days' });
    await login(admin.slug, 'sleeper', USER_PASSWORD);
    expect((await control('inactive-users')).offenders.map((o) => o.label)).not.toContain('sleeper');
    expect((await call('PUT', '/settings/security', admin.token, { inactivityDisableDays: 0 })).statusCode).toBe(200);
    expect(await control('inactive-users')).toMatchObject({ status: 'warn', score: 50, offenders: [] });
  });
});
