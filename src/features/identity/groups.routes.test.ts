import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('groups on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('groups-a');
    other = await t.tenantWithAdmin('groups-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  async function createGroup(body: object, by = admin) {
    const res = await call('POST', '/groups', by.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().group as { id: string; name: string; roles: string[]; members: { id: string; username: string }[] };
  }
  const groupEvents = (tenantId = admin.id) =>
    t.runtime.database.db.selectFrom('audit_events').select(['action', 'target_id', 'details']).where('tenant_id', '=', tenantId).where('action', 'like', 'group.%').orderBy('seq').execute();

  it('members receive the roles of their group on their next request, and lose them when they leave', async () => {
    const jane = await activeUser(t, admin, 'jane');
    expect((await call('GET', '/users', jane.token)).statusCode).toBe(403);
    const auditors = await createGroup({ name: 'Auditors', description: 'Read everything', roles: ['auditor'], members: [jane.id] });
    expect(auditors).toMatchObject({ name: 'Auditors', roles: ['auditor'], members: [{ id: jane.id, username: 'jane' }] });
    expect((await call('GET', '/users', jane.token)).statusCode).toBe(200);
    const me = (await call('GET', '/auth/me', jane.token)).json();
    expect(me.user.roles).toEqual(['auditor', 'user']);
    const effective = (await call('GET', `/users/${jane.id}/permissions`, admin.token)).json();
    expect(effective.sources).toEqual([{ role: 'auditor', via: 'Auditors' }, { role: 'user', via: null }]);
    expect(effective.permissions).toContain('identity.groups.read');
    expect((await call('DELETE', `/groups/${auditors.id}/members/${jane.id}`, admin.token)).statusCode).toBe(204);
    expect((await call('GET', '/users', jane.token)).statusCode).toBe(403);
    const events = await groupEvents();
    expect(events.map((e) => e.action)).toEqual(expect.arrayContaining(['group.created', 'group.members.added', 'group.members.removed']));
  });

  it('changing or deleting a group changes what its members may do at once', async () => {
    const kim = await activeUser(t, admin, 'kim');
    const ops = await createGroup({ name: 'Ops', members: [kim.id] });
    expect(ops.roles).toEqual([]);
    expect((await call('GET', '/focal-points', kim.token)).statusCode).toBe(403);
    const patched = await call('PATCH', `/groups/${ops.id}`, admin.token, { roles: ['security-admin'], description: 'Operations' });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ group: { roles: ['security-admin'], description: 'Operations' }, pendingGrant: null });
    expect((await call('GET', '/focal-points', kim.token)).statusCode).toBe(200);
    expect((await call('DELETE', `/groups/${ops.id}`, admin.token)).statusCode).toBe(204);
    expect((await call('GET', '/focal-points', kim.token)).statusCode).toBe(403);
    expect((await call('GET', `/groups/${ops.id}`, admin.token)).statusCode).toBe(404);
    const deleted = (await groupEvents()).find((e) => e.action === 'group.deleted' && e.target_id === ops.id);
    expect(JSON.parse(deleted!.details)).toMatchObject({ name: 'Ops', members: 1 });
  });

  it('lists groups by name fragment with cursor pagination', async () => {
    for (const name of ['Team One', 'Team Two', 'Team Three']) await createGroup({ name });
    const first = (await call('GET', '/groups?q=team&limit=2', admin.token)).json();
    expect(first.groups.map((g: { name: string }) => g.name)).toEqual(['Team One', 'Team Two']);
    const second = (await call('GET', `/groups?q=team&limit=2&cursor=${first.nextCursor}`, admin.token)).json();
    expect(second).toMatchObject({ groups: [{ name: 'Team Three' }], nextCursor: null });
  });

  it('refuses unknown roles, unknown or foreign users, duplicate names and empty changes, writing nothing', async () => {
    const stranger = await activeUser(t, other, 'stranger');
    const before = (await call('GET', '/groups?limit=100', admin.token)).json().groups.length;
    expect((await call('POST', '/groups', admin.token, { name: 'X', roles: ['no-such-role'] })).json().error.code).toBe('UNKNOWN_ROLE');
    expect((await call('POST', '/groups', admin.token, { name: 'X', members: [stranger.id] })).json().error.code).toBe('UNKNOWN_USER');
    expect((await call('POST', '/groups', admin.token, { name: 'X', members: ['not-an-id'] })).json().error.code).toBe('UNKNOWN_USER');
    expect((await call('POST', '/groups', admin.token, { name: '' })).statusCode).toBe(400);
    expect((await call('POST', '/groups', admin.token, { name: 'X', extra: 1 })).statusCode).toBe(400);
    expect((await call('GET', '/groups?limit=100', admin.token)).json().groups.length).toBe(before);
    const g = await createGroup({ name: 'Unique' });
    expect((await call('POST', '/groups', admin.token, { name: 'Unique' })).json().error.code).toBe('GROUP_EXISTS');
    expect((await call('PATCH', `/groups/${g.id}`, admin.token, {})).statusCode).toBe(400);
    expect((await call('POST', `/groups/${g.id}/members`, admin.token, { userIds: [] })).statusCode).toBe(400);
    expect((await call('DELETE', `/groups/${g.id}/members/${stranger.id}`, admin.token)).json().error.code).toBe('MEMBER_NOT_FOUND');
  });

  it("another tenant's group answers 404", async () => {
    const theirs = await createGroup({ name: 'Theirs' }, other);
    for (const [method, url, body] of [['GET', `/groups/${theirs.id}`], ['PATCH', `/groups/${theirs.id}`, { name: 'Mine' }], ['DELETE', `/groups/${theirs.id}`], ['POST', `/groups/${theirs.id}/members`, { userIds: [admin.id] }]] as const) {
      const res = await call(method, url, admin.token, body);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('GROUP_NOT_FOUND');
    }
    expect((await call('GET', '/groups?q=theirs', admin.token)).json().groups).toEqual([]);
  });

  it('reading groups needs identity.groups.read and changing them identity.groups.write', async () => {
    const plain = await activeUser(t, admin, 'plain');
    const auditor = await activeUser(t, admin, 'auditor1', ['auditor']);
    const g = await createGroup({ name: 'Guarded' });
    expect((await call('GET', '/groups', plain.token)).json().error.code).toBe('FORBIDDEN');
    expect((await call('GET', `/groups/${g.id}`, auditor.token)).statusCode).toBe(200);
    for (const [method, url, body] of [['POST', '/groups', { name: 'Nope' }], ['PATCH', `/groups/${g.id}`, { name: 'Nope' }], ['DELETE', `/groups/${g.id}`], ['POST', `/groups/${g.id}/members`, { userIds: [auditor.id] }]] as const) {
      expect((await call(method, url, auditor.token, body)).statusCode, `${method} ${url}`).toBe(403);
    }
  });

  it('a group may not hand out roles its creator does not hold', async () => {
    const delegate = await activeUser(t, admin, 'delegate');
    const role = await call('POST', '/roles', admin.token, { name: 'group-keeper', permissions: ['identity.groups.read', 'identity.groups.write', 'identity.users.read'] });
    expect(role.statusCode, role.body).toBe(201);
    expect((await call('PATCH', `/users/${delegate.id}`, admin.token, { roles: ['group-keeper'] })).statusCode).toBe(200);
    const res = await call('POST', '/groups', delegate.token, { name: 'Escalate', roles: ['tenant-admin'], members: [delegate.id] });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('PERMISSION_NOT_HELD');
    expect((await call('GET', '/groups?q=escalate', admin.token)).json().groups).toEqual([]);
  });

  it('deleting a user removes them from their groups', async () => {
    const leaver = await activeUser(t, admin, 'leaver');
    const g = await createGroup({ name: 'Leavers', members: [leaver.id] });
    expect((await call('DELETE', `/users/${leaver.id}`, admin.token)).statusCode).toBe(204);
    expect((await call('GET', `/groups/${g.id}`, admin.token)).json().group.members).toEqual([]);
  });
});
