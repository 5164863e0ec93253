import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

const pw = (label: string) => `Pw_${label}_Aa1-2026-xyz:=`;

describe.each(dialects)('revealing credentials on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let carol: Awaited<ReturnType<typeof activeUser>>;
  let audrey: Awaited<ReturnType<typeof activeUser>>;
  let device: { id: string; name: string };
  const ids: Record<string, string> = {};
  let foreign: string;

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const eventsOf = (targetId: string, action: string) => db().selectFrom('audit_events').select(['action', 'details', 'actor_id']).where('target_id', '=', targetId).where('action', '=', action).orderBy('seq').execute();
  const eventCount = async () => Number((await db().selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', admin.id).executeTakeFirstOrThrow()).n);
  const reveal = (id: string, token = alice.token, body: object = {}) => call('POST', `/credentials/${id}/reveal`, token, body);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('reveal-a');
    other = await t.tenantWithAdmin('reveal-b');
    alice = await activeUser(t, admin, 'alice');
    carol = await activeUser(t, admin, 'carol', ['approver']);
    audrey = await activeUser(t, admin, 'audrey', ['auditor']);
    device = (await call('POST', '/devices', admin.token, { name: 'db01', address: 'db01.acme.internal', port: 5432, protocol: 'postgres' })).json().device;
    for (const name of ['allow', 'just', 'approve', 'hidden', 'window', 'off', 'rot-reveal']) {
      const res = await call('POST', '/credentials', admin.token, { deviceId: device.id, username: name, type: 'password', secret: pw(name) });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().credential.id;
    }
    const theirs = (await call('POST', '/devices', other.token, { name: 'theirs', address: '10.9.9.9', port: 22, protocol: 'ssh' })).json().device;
    foreign = (await call('POST', '/credentials', other.token, { deviceId: theirs.id, username: 'allow', type: 'password', secret: pw('foreign') })).json().credential.id;
    const members = { users: [alice.id, audrey.id] };
    const policies = [
      { name: 'Allow', members, filters: { credentialUsernames: ['allow', 'off', 'rot-*'] }, actions: { reveal: { mode: 'allow' } } },
      { name: 'Justify', members, filters: { credentialUsernames: ['just'] }, actions: { reveal: { mode: 'justification' } } },
      { name: 'Approve', members, filters: { credentialUsernames: ['approve'] }, actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [carol.id] }, required: 1 }] } } },
      // The test clock is a Monday: a weekend-only window is closed.
      { name: 'Weekends', members, filters: { credentialUsernames: ['window'] }, actions: { reveal: { mode: 'allow', timeRestriction: { timeZone: 'UTC', weekdays: ['sat', 'sun'] } } } },
      // Visible (a session is granted) but reveal is not.
      { name: 'Sessions only', members: { users: [carol.id] }, filters: { credentialUsernames: ['allow'] }, actions: { session: { mode: 'allow' } } },
    ];
    for (const policy of policies) {
      const res = await call('POST', '/access-policies', admin.token, policy);
      expect(res.statusCode, res.body).toBe(201);
    }
    const rotation = await call('POST', '/credential-policies', admin.token, { name: 'Rotate after use', filters: { usernames: ['rot-*'] }, rules: { minLength: 8, requireClasses: [], rotateAfterReveal: true } });
    expect(rotation.statusCode, rotation.body).toBe(201);
  });
  afterAll(async () => t.close());

  it('an allow policy reveals the current secret, never cached, and records credential.revealed without the secret', async () => {
    const res = await reveal(ids.allow!);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ credentialId: ids.allow, version: 1, username: 'allow', type: 'password', secret: pw('allow'), passphrase: null, device: { id: device.id, name: 'db01' }, revealedAt: new Date(t.clock.now()).toISOString() });
    const [event] = await eventsOf(ids.allow!, 'credential.revealed');
    expect(event).toMatchObject({ actor_id: alice.id });
    const details = JSON.parse(event!.details as string);
    expect(details).toMatchObject({ version: 1, mode: 'allow', justification: null, requestId: null });
    expect(details.policyIds).toHaveLength(1);
    expect(JSON.stringify(event)).not.toContain(pw('allow'));
    const row = await db().selectFrom('credentials').select('needs_rotation').where('id', '=', ids.allow!).executeTakeFirstOrThrow();
    expect(row.needs_rotation).toBe(0);
  });

  it('a justification policy refuses a reveal without a justification of 5 characters and records the one given', async () => {
    for (const body of [{}, { justification: '  abc ' }]) {
      const res = await reveal(ids.just!, alice.token, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe('JUSTIFICATION_REQUIRED');
    }
    expect(await eventsOf(ids.just!, 'credential.revealed')).toHaveLength(0);
    const res = await reveal(ids.just!, alice.token, { justification: 'INC-4711 restore' });
    expect(res.statusCode, res.body).toBe(200);
    const [event] = await eventsOf(ids.just!, 'credential.revealed');
    expect(JSON.parse(event!.details as string)).toMatchObject({ mode: 'justification', justification: 'INC-4711 restore' });
  });

  it('an approval policy answers ACCESS_REQUEST_REQUIRED without an approved request, with or without a request id', async () => {
    for (const body of [{}, { justification: 'CHG-1 migrate' }, { justification: 'CHG-1 migrate', requestId: '0190f7b2-0000-7000-8000-000000000000' }]) {
      const res = await reveal(ids.approve!, alice.token, body);
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'ACCESS_REQUEST_REQUIRED', message: expect.stringContaining('POST /api/v1/access-requests') });
    }
    expect(await eventsOf(ids.approve!, 'credential.revealed')).toHaveLength(0);
  });

  it('a credential no policy grants answers 404 to a user, like an unknown id, and 403 ACCESS_NOT_GRANTED to an administrator', async () => {
    const hidden = await reveal(ids.hidden!);
    const unknown = await reveal('0190f7b2-0000-7000-8000-000000000000');
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error.code).toBe('CREDENTIAL_NOT_FOUND');
    expect(unknown.json().error.message).toBe(hidden.json().error.message.replace(ids.hidden!, '0190f7b2-0000-7000-8000-000000000000'));
    const asAdmin = await reveal(ids.hidden!, admin.token);
    expect(asAdmin.statusCode, asAdmin.body).toBe(403);
    expect(asAdmin.json().error.code).toBe('ACCESS_NOT_GRANTED');
  });

  it('a visible credential whose reveal is not granted answers 403 ACCESS_NOT_GRANTED', async () => {
    const res = await reveal(ids.allow!, carol.token);
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error.code).toBe('ACCESS_NOT_GRANTED');
  });

  it("another tenant's credential answers 404", async () => {
    const res = await reveal(foreign);
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('CREDENTIAL_NOT_FOUND');
  });

  it('a user without vault.credentials.use answers 403 FORBIDDEN even where a policy grants the credential', async () => {
    const res = await reveal(ids.allow!, audrey.token);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  });

  it('outside the time window of a policy the reveal answers ACCESS_OUTSIDE_WINDOW', async () => {
    const res = await reveal(ids.window!);
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json().error.code).toBe('ACCESS_OUTSIDE_WINDOW');
  });

  it('an inactive credential answers 409 CREDENTIAL_DISABLED', async () => {
    expect((await call('PATCH', `/credentials/${ids.off}`, admin.token, { status: 'inactive' })).statusCode).toBe(200);
    const res = await reveal(ids.off!);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe('CREDENTIAL_DISABLED');
  });

  it('bad input (unknown field, oversize justification, malformed code) answers 400 and records nothing', async () => {
    const before = await eventCount();
    for (const body of [{ secret: 'x' }, { justification: 'x'.repeat(1001) }, { justification: 42 }, { totp: 'abc' }]) {
      const res = await reveal(ids.allow!, alice.token, body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toEqual(expect.any(String));
    }
    expect(await eventCount()).toBe(before);
  });

  it('a credential policy with rotateAfterReveal flags the credential for rotation in the reveal', async () => {
    const res = await reveal(ids['rot-reveal']!);
    expect(res.statusCode, res.body).toBe(200);
    const row = await db().selectFrom('credentials').select('needs_rotation').where('id', '=', ids['rot-reveal']!).executeTakeFirstOrThrow();
    expect(row.needs_rotation).toBe(1);
  });

  it('a secret that fails its integrity check answers 409 SECRET_INTEGRITY_FAILED and is recorded', async () => {
    const sealed = (await db().selectFrom('credentials').select('secret_sealed').where('id', '=', ids.just!).executeTakeFirstOrThrow()).secret_sealed;
    await db().updateTable('credentials').set({ secret_sealed: (await db().selectFrom('credentials').select('secret_sealed').where('id', '=', ids.allow!).executeTakeFirstOrThrow()).secret_sealed }).where('id', '=', ids.just!).execute();
    try {
      const res = await reveal(ids.just!, alice.token, { justification: 'INC-4712 again' });
      expect(res.statusCode, res.body).toBe(409);
      expect(res.json().error.code).toBe('SECRET_INTEGRITY_FAILED');
      expect(await eventsOf(ids.just!, 'credential.integrity_failed')).toHaveLength(1);
    } finally {
      await db().updateTable('credentials').set({ secret_sealed: sealed, needs_rotation: 0 }).where('id', '=', ids.just!).execute();
    }
  });
});
