import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall, USER_PASSWORD } from '../../../test/support/users.js';

const pw = (label: string) => `Pw_${label}_Aa1-2026-xyz:=`;
const MINUTE = 60_000;

describe.each(dialects)('access requests and approvals on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  const people: Record<string, Awaited<ReturnType<typeof activeUser>>> = {};
  const ids: Record<string, string> = {};
  let foreign: string;

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const eventsOf = (targetId: string, action: string) => db().selectFrom('audit_events').select(['details', 'actor_id']).where('target_id', '=', targetId).where('action', '=', action).orderBy('seq').execute();
  const ask = (who: string, body: object) => call('POST', '/access-requests', people[who]!.token, body);
  const askFor = async (who: string, credential: string, extra: object = {}) => {
    const res = await ask(who, { credentialId: ids[credential], justification: 'CHG-2026 patch the database', ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().request as { id: string; status: string; stage: number; validUntil: string | null; emergency: boolean };
  };
  const decide = (who: string, id: string, verdict: 'approve' | 'deny' | 'cancel', body?: object) => call('POST', `/access-requests/${id}/${verdict}`, people[who]!.token, body);
  const reveal = (who: string, credential: string, body: object = {}) => call('POST', `/credentials/${ids[credential]}/reveal`, people[who]!.token, body);
  /** Time passes in these tests beyond a session's idle limit: everyone logs in again. */
  const relogin = async () => {
    const login = async (slug: string, username: string, password: string) => (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: slug, username, password } })).json().token as string;
    for (const person of Object.values(people)) person.token = await login(person.slug, person.username, USER_PASSWORD);
    for (const tenantAdmin of [admin, other]) tenantAdmin.token = await login(tenantAdmin.slug, tenantAdmin.username, tenantAdmin.password);
  };
  const later = async (ms: number) => {
    t.clock.advance(ms);
    await relogin();
  };
  const inbox = async (who: string) => (await call('GET', '/access-requests?role=approver', people[who]!.token)).json().requests.map((r: { id: string }) => r.id);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('requests-a');
    other = await t.tenantWithAdmin('requests-b');
    for (const name of ['alice', 'bob', 'carol', 'erin', 'dave', 'leaver']) people[name] = await activeUser(t, admin, name);
    const group = await call('POST', '/groups', admin.token, { name: 'dbas', members: [people.carol!.id, people.erin!.id] });
    expect(group.statusCode, group.body).toBe(201);
    const device = (await call('POST', '/devices', admin.token, { name: 'db01', address: 'db01.acme.internal', port: 5432, protocol: 'postgres' })).json().device;
    for (const name of ['one-level', 'two-level', 'break-glass', 'open', 'lonely', 'invisible', 'deny-me', 'windowed', 'leaving']) {
      const tag = name === 'deny-me' || name === 'windowed' || name === 'leaving' ? 'one-level' : name;
      const res = await call('POST', '/credentials', admin.token, { deviceId: device.id, username: name, type: 'password', secret: pw(name), tags: [tag] });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().credential.id;
    }
    const theirs = (await call('POST', '/devices', other.token, { name: 'theirs', address: '10.9.9.9', port: 22, protocol: 'ssh' })).json().device;
    foreign = (await call('POST', '/credentials', other.token, { deviceId: theirs.id, username: 'x', type: 'password', secret: pw('foreign') })).json().credential.id;
    const members = { users: [people.alice!.id, people.leaver!.id], groups: [] };
    const approval = (levels: object[], extra: object = {}) => ({ reveal: { mode: 'approval', levels, approvalValidMinutes: 60, ...extra } });
    for (const [name, tag, actions] of [
      ['one level', 'one-level', approval([{ approvers: { users: [people.bob!.id] }, required: 1 }])],
      ['two levels', 'two-level', approval([{ approvers: { users: [people.bob!.id] }, required: 1 }, { approvers: { groups: [group.json().group.id] }, required: 2 }])],
      ['break glass', 'break-glass', approval([{ approvers: { users: [people.bob!.id] }, required: 1 }], { emergencyAllowed: true })],
      ['open', 'open', { reveal: { mode: 'allow' } }],
      ['approver is the requester', 'lonely', approval([{ approvers: { users: [people.alice!.id] }, required: 1 }])],
    ] as const) {
      const res = await call('POST', '/access-policies', admin.token, { name, members, filters: { credentialTags: [tag] }, actions });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => t.close());

  it('an approved request lets its requester reveal within the window, and the reveal records the request', async () => {
    const request = await askFor('alice', 'one-level');
    expect(request).toMatchObject({ status: 'pending', stage: 1, validUntil: null, emergency: false });
    expect(await inbox('bob')).toEqual([request.id]);
    expect(await inbox('dave')).toEqual([]);
    const early = await reveal('alice', 'one-level');
    expect(early.statusCode).toBe(403);
    expect(early.json().error).toMatchObject({ code: 'ACCESS_REQUEST_REQUIRED', message: expect.stringContaining('still waits for approval') });

    const approved = await decide('bob', request.id, 'approve', { comment: 'ok for CHG-2026' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().request).toMatchObject({ status: 'approved', validFrom: new Date(t.clock.now()).toISOString(), validUntil: new Date(t.clock.now() + 60 * MINUTE).toISOString(), decisions: [{ userId: people.bob!.id, level: 1, decision: 'approve', comment: 'ok for CHG-2026' }] });
    expect(await inbox('bob')).toEqual([]);

    for (const body of [{ requestId: request.id }, {}]) {
      const res = await reveal('alice', 'one-level', body);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().secret).toBe(pw('one-level'));
    }
    const [event] = await eventsOf(ids['one-level']!, 'credential.revealed');
    expect(JSON.parse(event!.details as string)).toMatchObject({ mode: 'approval', requestId: request.id, justification: 'CHG-2026 patch the database', emergency: false });

    await later(61 * MINUTE);
    const late = await reveal('alice', 'one-level', { requestId: request.id });
    expect(late.statusCode).toBe(403);
    expect(late.json().error.code).toBe('ACCESS_REQUEST_EXPIRED');
    expect((await reveal('alice', 'one-level')).json().error.code).toBe('ACCESS_REQUEST_EXPIRED');
  });

  it('nobody approves their own request, and a request is not usable by anyone but its requester', async () => {
    const request = await askFor('alice', 'windowed');
    const own = await decide('alice', request.id, 'approve');
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('APPROVAL_OWN_REQUEST');
    expect((await decide('dave', request.id, 'approve')).statusCode).toBe(404);
    expect((await decide('bob', request.id, 'approve')).statusCode).toBe(200);
    const stolen = await reveal('dave', 'windowed', { requestId: request.id });
    expect(stolen.statusCode).toBe(404);
  });

  it('two levels are decided in order; the second needs two approvals of the group; nobody decides twice', async () => {
    const request = await askFor('alice', 'two-level');
    expect(await inbox('carol')).toEqual([]);
    const early = await decide('carol', request.id, 'approve');
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('NOT_YOUR_STAGE');
    expect((await decide('bob', request.id, 'approve')).json().request).toMatchObject({ status: 'pending', stage: 2 });
    expect((await decide('bob', request.id, 'approve')).json().error.code).toBe('ALREADY_DECIDED');
    expect(await inbox('carol')).toEqual([request.id]);
    expect((await decide('carol', request.id, 'approve')).json().request).toMatchObject({ status: 'pending', stage: 2 });
    expect((await reveal('alice', 'two-level')).json().error.code).toBe('ACCESS_REQUEST_REQUIRED');
    const done = await decide('erin', request.id, 'approve');
    expect(done.json().request).toMatchObject({ status: 'approved', stage: 2 });
    expect(done.json().request.decisions.map((d: { userId: string }) => d.userId)).toEqual([people.bob!.id, people.carol!.id, people.erin!.id]);
    expect((await reveal('alice', 'two-level')).statusCode).toBe(200);
  });

  it('two approvers deciding one stage at the same moment are both counted', async () => {
    const request = await askFor('alice', 'two-level');
    expect((await decide('bob', request.id, 'approve')).statusCode).toBe(200);
    const both = await Promise.all([decide('carol', request.id, 'approve'), decide('erin', request.id, 'approve')]);
    expect(both.map((r) => r.statusCode)).toEqual([200, 200]);
    expect((await call('GET', `/access-requests/${request.id}`, people.alice!.token)).json().request).toMatchObject({ status: 'approved', stage: 2 });
  });

  it('a denial needs a comment and closes the request; the reveal stays refused', async () => {
    const request = await askFor('alice', 'deny-me');
    const bare = await decide('bob', request.id, 'deny', {});
    expect(bare.statusCode).toBe(400);
    const denied = await decide('bob', request.id, 'deny', { comment: 'not during the freeze' });
    expect(denied.statusCode, denied.body).toBe(200);
    expect(denied.json().request).toMatchObject({ status: 'denied', decisions: [{ decision: 'deny', comment: 'not during the freeze' }] });
    expect((await reveal('alice', 'deny-me', { requestId: request.id })).json().error).toMatchObject({ code: 'ACCESS_REQUEST_REQUIRED', message: expect.stringContaining('was denied') });
    expect((await decide('bob', request.id, 'approve')).json().error.code).toBe('ACCESS_REQUEST_CLOSED');
    expect(JSON.parse((await eventsOf(request.id, 'access_request.denied'))[0]!.details as string)).toMatchObject({ level: 1, comment: 'not during the freeze' });
  });

  it('the requester cancels; nobody else can; a cancelled approval ends at once', async () => {
    const request = await askFor('alice', 'deny-me');
    expect((await decide('bob', request.id, 'cancel')).json().error.code).toBe('NOT_YOUR_REQUEST');
    expect((await decide('dave', request.id, 'cancel')).statusCode).toBe(404);
    expect((await decide('bob', request.id, 'approve')).statusCode).toBe(200);
    expect((await reveal('alice', 'deny-me')).statusCode).toBe(200);
    const cancelled = await decide('alice', request.id, 'cancel');
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().request.status).toBe('cancelled');
    expect((await reveal('alice', 'deny-me', { requestId: request.id })).json().error.code).toBe('ACCESS_REQUEST_REQUIRED');
    expect((await decide('alice', request.id, 'cancel')).json().error.code).toBe('ACCESS_REQUEST_CLOSED');
  });

  it('a window asked for starts and ends the approval; a window longer than the approval validity is refused', async () => {
    const now = t.clock.now();
    const tooLong = await ask('alice', { credentialId: ids.leaving, justification: 'maintenance window', from: new Date(now + MINUTE).toISOString(), to: new Date(now + 120 * MINUTE).toISOString() });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.code).toBe('ACCESS_WINDOW_INVALID');
    const backwards = await ask('alice', { credentialId: ids.leaving, justification: 'maintenance window', from: new Date(now + 10 * MINUTE).toISOString(), to: new Date(now + 5 * MINUTE).toISOString() });
    expect(backwards.statusCode).toBe(400);
    const request = await askFor('alice', 'leaving', { from: new Date(now + 30 * MINUTE).toISOString(), to: new Date(now + 60 * MINUTE).toISOString() });
    expect((await decide('bob', request.id, 'approve')).json().request).toMatchObject({ validFrom: new Date(now + 30 * MINUTE).toISOString(), validUntil: new Date(now + 60 * MINUTE).toISOString() });
    expect((await reveal('alice', 'leaving')).json().error).toMatchObject({ code: 'ACCESS_REQUEST_REQUIRED', message: expect.stringContaining('approved from') });
    await later(31 * MINUTE);
    expect((await reveal('alice', 'leaving')).statusCode).toBe(200);
    await later(30 * MINUTE);
    expect((await reveal('alice', 'leaving')).json().error.code).toBe('ACCESS_REQUEST_EXPIRED');
  });

  it('emergency access is approved at once where every policy allows it, flagged in the reveal and marks the credential for rotation', async () => {
    const refused = await ask('alice', { credentialId: ids['one-level'], justification: 'the database is down', emergency: true });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('EMERGENCY_ACCESS_NOT_ALLOWED');
    const request = await askFor('alice', 'break-glass', { emergency: true, justification: 'INC-9 outage, bob unreachable' });
    expect(request).toMatchObject({ status: 'approved', emergency: true });
    const res = await reveal('alice', 'break-glass');
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse((await eventsOf(ids['break-glass']!, 'credential.revealed'))[0]!.details as string)).toMatchObject({ emergency: true, requestId: request.id });
    expect((await db().selectFrom('credentials').select('needs_rotation').where('id', '=', ids['break-glass']!).executeTakeFirstOrThrow()).needs_rotation).toBe(1);
    const [event] = await eventsOf(request.id, 'access_request.emergency');
    expect(JSON.parse(event!.details as string)).toMatchObject({ justification: 'INC-9 outage, bob unreachable', credentialId: ids['break-glass'] });
  });

  it('a request is refused where no approval is needed, where nobody but the requester could approve, and for credentials the caller cannot see', async () => {
    const open = await ask('alice', { credentialId: ids.open, justification: 'just looking' });
    expect(open.statusCode).toBe(409);
    expect(open.json().error.code).toBe('ACCESS_REQUEST_NOT_NEEDED');
    const lonely = await ask('alice', { credentialId: ids.lonely, justification: 'nobody can approve' });
    expect(lonely.statusCode).toBe(409);
    expect(lonely.json().error.code).toBe('APPROVERS_UNAVAILABLE');
    for (const credentialId of [ids.invisible, foreign, '0190f7b2-0000-7000-8000-000000000000', 'not-an-id']) {
      const res = await ask('alice', { credentialId, justification: 'let me see' });
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.code).toBe('CREDENTIAL_NOT_FOUND');
    }
    expect((await call('POST', '/access-requests', other.token, { credentialId: ids['one-level'], justification: 'cross tenant' })).statusCode).toBe(404);
  });

  it('a request is seen by its parties and by holders of access.requests.read; another tenant sees nothing', async () => {
    const request = await askFor('alice', 'two-level');
    for (const who of ['alice', 'bob', 'carol']) expect((await call('GET', `/access-requests/${request.id}`, people[who]!.token)).statusCode).toBe(200);
    expect((await call('GET', `/access-requests/${request.id}`, people.dave!.token)).statusCode).toBe(404);
    expect((await call('GET', `/access-requests/${request.id}`, other.token)).statusCode).toBe(404);
    expect((await call('GET', `/access-requests/${request.id}`, admin.token)).statusCode).toBe(200);
    const all = await call('GET', '/access-requests?role=all', people.alice!.token);
    expect(all.statusCode).toBe(403);
    const everyone = await call('GET', '/access-requests?role=all&limit=2', admin.token);
    expect(everyone.statusCode, everyone.body).toBe(200);
    expect(everyone.json().requests).toHaveLength(2);
    const next = await call('GET', `/access-requests?role=all&limit=100&cursor=${everyone.json().nextCursor}`, admin.token);
    expect(next.json().requests.map((r: { id: string }) => r.id)).not.toContain(everyone.json().requests[0].id);
    expect((await call('GET', '/access-requests?role=all', other.token)).json().requests).toEqual([]);
    const mine = (await call('GET', '/access-requests', people.alice!.token)).json().requests;
    expect(mine.length).toBeGreaterThan(3);
    expect(mine.every((r: { requesterId: string }) => r.requesterId === people.alice!.id)).toBe(true);
    expect((await call('GET', '/access-requests', people.dave!.token)).json().requests).toEqual([]);
  });

  it('bad input answers 400 with a clear code and writes nothing', async () => {
    const before = await db().selectFrom('access_requests').select('id').execute();
    for (const body of [
      {},
      { credentialId: ids['one-level'] },
      { credentialId: ids['one-level'], justification: 'abc' },
      { credentialId: ids['one-level'], justification: 'x'.repeat(2001) },
      { credentialId: ids['one-level'], justification: 'valid reason', action: 'delete' },
      { credentialId: ids['one-level'], justification: 'valid reason', from: 'tomorrow' },
      { credentialId: ids['one-level'], justification: 'valid reason', emergency: 'yes' },
      { credentialId: ids['break-glass'], justification: 'valid reason', emergency: true, from: new Date(t.clock.now() + 60_000).toISOString() },
      { credentialId: 42, justification: 'valid reason' },
      { credentialId: ids['one-level'], justification: 'valid reason', approver: people.alice!.id },
    ]) {
      const res = await ask('alice', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBeTypeOf('string');
    }
    expect((await call('GET', '/access-requests?role=boss', people.alice!.token)).statusCode).toBe(400);
    expect((await call('GET', '/access-requests?limit=1000', people.alice!.token)).statusCode).toBe(400);
    expect((await decide('bob', before[0]!.id, 'approve', { comment: 'x'.repeat(2001) })).statusCode).toBe(400);
    expect((await decide('bob', before[0]!.id, 'approve', { verdict: 'yes' })).statusCode).toBe(400);
    expect(await db().selectFrom('access_requests').select('id').execute()).toHaveLength(before.length);
  });

  it('deactivating a user cancels their pending requests and ends their approved windows', async () => {
    const pending = await askFor('leaver', 'two-level');
    const approved = await askFor('leaver', 'one-level');
    expect((await decide('bob', approved.id, 'approve')).statusCode).toBe(200);
    const res = await call('PATCH', `/users/${people.leaver!.id}`, admin.token, { status: 'inactive' });
    expect(res.statusCode, res.body).toBe(200);
    for (const id of [pending.id, approved.id]) {
      expect((await call('GET', `/access-requests/${id}`, admin.token)).json().request.status).toBe('cancelled');
    }
    expect(JSON.parse((await eventsOf(people.leaver!.id, 'user.deactivated'))[0]!.details as string)).toMatchObject({ accessRequestsCancelled: 2 });
  });
  // Last: a day passes, and every session with it.
  it('one pending request per credential and action; an undecided request expires after a day', async () => {
    const request = await askFor('alice', 'windowed');
    const again = await ask('alice', { credentialId: ids.windowed, justification: 'the same thing again' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'ACCESS_REQUEST_PENDING', message: expect.stringContaining(request.id) });
    await later(24 * 60 * MINUTE);
    expect(await inbox('bob')).not.toContain(request.id);
    expect((await decide('bob', request.id, 'approve')).json().error.code).toBe('ACCESS_REQUEST_EXPIRED');
    expect(await t.runtime.services.requestLifecycle.expireDue()).toBeGreaterThanOrEqual(1);
    expect((await call('GET', `/access-requests/${request.id}`, people.alice!.token)).json().request.status).toBe('expired');
    expect(await eventsOf(request.id, 'access_request.expired')).toHaveLength(1);
    expect((await askFor('alice', 'windowed')).status).toBe('pending');
  });
});
