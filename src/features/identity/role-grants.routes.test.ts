import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('four-eyes role grants on %s', (dialect) => {
  let t: TestApp;
  let alice: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let bob: Awaited<ReturnType<typeof activeUser>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    alice = await t.tenantWithAdmin('four-eyes');
    other = await t.tenantWithAdmin('four-eyes-other');
    // A second administrator, made before four-eyes is switched on.
    bob = await activeUser(t, alice, 'bob', ['tenant-admin']);
    const on = await call('PUT', '/settings/security', alice.token, { fourEyesRoleGrants: true });
    expect(on.statusCode, on.body).toBe(200);
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const rolesOf = async (id: string) => (await call('GET', `/users/${id}`, alice.token)).json().user.roles;

  it('an administrative role waits for a second administrator, who applies it; the requester cannot approve', async () => {
    const carol = await activeUser(t, alice, 'carol');
    const res = await call('PATCH', `/users/${carol.id}`, alice.token, { roles: ['user', 'security-admin'] });
    expect(res.statusCode, res.body).toBe(200);
    const grant = res.json().pendingGrant;
    expect(grant).toMatchObject({ status: 'pending', subject: { type: 'user', id: carol.id }, change: { kind: 'user.roles', roles: ['security-admin'] } });
    expect(res.json().user.roles).toEqual(['user']);
    expect((await call('GET', '/settings/security', carol.token)).statusCode).toBe(403);
    const own = await call('POST', `/role-grants/${grant.id}/approve`, alice.token);
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('SELF_APPROVAL');
    expect((await call('GET', '/role-grants?status=pending', bob.token)).json().grants.map((g: { id: string }) => g.id)).toContain(grant.id);
    const approved = await call('POST', `/role-grants/${grant.id}/approve`, bob.token, { comment: 'Carol joins the security team' });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().grant).toMatchObject({ status: 'approved', comment: 'Carol joins the security team' });
    expect(await rolesOf(carol.id)).toEqual(['security-admin', 'user']);
    expect((await call('GET', '/settings/security', carol.token)).statusCode).toBe(200);
    const again = await call('POST', `/role-grants/${grant.id}/deny`, bob.token);
    expect(again.json().error.code).toBe('ROLE_GRANT_DECIDED');
    const actions = (await t.runtime.database.db.selectFrom('audit_events').select('action').where('tenant_id', '=', alice.id).where('target_id', '=', carol.id).orderBy('seq').execute()).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['role_grant.requested', 'role_grant.approved', 'user.updated']));
  });

  it('a denied grant grants nothing, and roles that do not administer apply at once', async () => {
    const dan = await activeUser(t, alice, 'dan');
    const res = await call('PATCH', `/users/${dan.id}`, bob.token, { roles: ['auditor', 'tenant-admin'] });
    expect(res.json().user.roles).toEqual(['auditor']);
    const denied = await call('POST', `/role-grants/${res.json().pendingGrant.id}/deny`, alice.token, { comment: 'not needed' });
    expect(denied.json().grant.status).toBe('denied');
    expect(await rolesOf(dan.id)).toEqual(['auditor']);
    const created = await call('POST', '/users', alice.token, { username: 'erin', email: 'erin@x.example', roles: ['vault-admin'] });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ user: { roles: [] }, pendingGrant: { change: { kind: 'user.roles', roles: ['vault-admin'] } } });
  });

  it('the grantee cannot approve their own grant, nor can a member of the group it is for', async () => {
    const fay = await activeUser(t, alice, 'fay', ['security-admin']);
    // fay was made security-admin under four-eyes: bob approves it first.
    const first = (await call('GET', '/role-grants?status=pending', bob.token)).json().grants.find((g: { subject: { id: string } }) => g.subject.id === fay.id);
    await call('POST', `/role-grants/${first.id}/approve`, bob.token);
    const fayLogin = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: alice.slug, username: 'fay', password: 'a user password here' } });
    const fayToken = fayLogin.json().token as string;
    const res = await call('PATCH', `/users/${fay.id}`, bob.token, { roles: ['security-admin', 'tenant-admin'] });
    const self = await call('POST', `/role-grants/${res.json().pendingGrant.id}/approve`, fayToken);
    expect(self.json().error.code).toBe('SELF_APPROVAL');
    const admins = await call('POST', '/groups', bob.token, { name: 'Admins', members: [fay.id] });
    const grantForGroup = await call('PATCH', `/groups/${admins.json().group.id}`, bob.token, { roles: ['tenant-admin'] });
    expect(grantForGroup.json().group.roles).toEqual([]);
    const member = await call('POST', `/role-grants/${grantForGroup.json().pendingGrant.id}/approve`, fayToken);
    expect(member.json().error.code).toBe('SELF_APPROVAL');
    expect((await call('POST', `/role-grants/${grantForGroup.json().pendingGrant.id}/approve`, alice.token)).statusCode).toBe(200);
    // The group now administers: adding a member waits too.
    const aliceId = (await call('GET', '/auth/me', alice.token)).json().user.id as string;
    const joining = await call('POST', `/groups/${admins.json().group.id}/members`, bob.token, { userIds: [aliceId] });
    expect(joining.statusCode, joining.body).toBe(200);
    expect(joining.json().pendingGrant.change).toEqual({ kind: 'group.members', userIds: [aliceId] });
    expect((await call('POST', `/role-grants/${joining.json().pendingGrant.id}/approve`, alice.token)).json().error.code).toBe('SELF_APPROVAL');
  });

  it("deactivating a user cancels the grants they asked for or would receive; another tenant's grant answers 404", async () => {
    const gus = await activeUser(t, alice, 'gus');
    const pending = (await call('PATCH', `/users/${gus.id}`, alice.token, { roles: ['security-admin'] })).json().pendingGrant;
    expect((await call('PATCH', `/users/${gus.id}`, bob.token, { status: 'inactive' })).statusCode).toBe(200);
    expect((await call('GET', `/role-grants/${pending.id}`, bob.token)).json().grant.status).toBe('cancelled');
    expect((await call('POST', `/role-grants/${pending.id}/approve`, bob.token)).json().error.code).toBe('ROLE_GRANT_DECIDED');
    const foreign = await call('GET', `/role-grants/${pending.id}`, other.token);
    expect(foreign.statusCode).toBe(404);
    expect((await call('POST', `/role-grants/${pending.id}/approve`, other.token)).json().error.code).toBe('ROLE_GRANT_NOT_FOUND');
  });

  it('an approved permission grant adds to what the role grants now: a permission removed meanwhile stays removed', async () => {
    const role = (await call('POST', '/roles', alice.token, { name: 'ops-desk', permissions: ['identity.users.read', 'identity.users.write'] })).json().role;
    const pending = (await call('PATCH', `/roles/${role.id}`, alice.token, { permissions: ['identity.users.read', 'identity.users.write', 'identity.clients.write'] })).json().pendingGrant;
    expect(pending.change).toEqual({ kind: 'role.permissions', permissions: ['identity.clients.write'] });
    expect((await call('PATCH', `/roles/${role.id}`, bob.token, { permissions: ['identity.users.read'] })).statusCode).toBe(200);
    expect((await call('POST', `/role-grants/${pending.id}/approve`, bob.token)).statusCode).toBe(200);
    expect((await call('GET', `/roles/${role.id}`, bob.token)).json().role.permissions).toEqual(['identity.clients.write', 'identity.users.read']);
  });

  it('an API client can neither request nor decide a four-eyes grant: four-eyes counts people', async () => {
    // A client holding every permission: only four-eyes itself may stop it.
    const everything = (await call('GET', '/permissions', alice.token)).json().permissions.map((p: { name: string }) => p.name);
    const created = await call('POST', '/clients', alice.token, { name: 'Automation', scopes: everything });
    expect(created.statusCode, created.body).toBe(201);
    const issued = await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', payload: { grant_type: 'client_credentials', client_id: created.json().client.clientId, client_secret: created.json().clientSecret } });
    const clientToken = issued.json().access_token as string;
    const hal = await activeUser(t, alice, 'hal');
    const byClient = await call('PATCH', `/users/${hal.id}`, clientToken, { roles: ['user', 'security-admin'] });
    expect(byClient.json().error.code).toBe('FOUR_EYES_USER_REQUIRED');
    expect(await rolesOf(hal.id)).toEqual(['user']);
    const pending = (await call('PATCH', `/users/${hal.id}`, alice.token, { roles: ['user', 'security-admin'] })).json().pendingGrant;
    expect((await call('POST', `/role-grants/${pending.id}/approve`, clientToken)).json().error.code).toBe('FOUR_EYES_USER_REQUIRED');
    expect((await call('GET', `/role-grants/${pending.id}`, bob.token)).json().grant.status).toBe('pending');
  });

  it('deciding needs identity.role-grants.decide; bad input is refused', async () => {
    const auditor = await activeUser(t, alice, 'auditor3', ['auditor']);
    const pending = (await call('PATCH', `/users/${auditor.id}`, alice.token, { roles: ['auditor', 'security-admin'] })).json().pendingGrant;
    expect((await call('GET', '/role-grants', auditor.token)).statusCode).toBe(200);
    expect((await call('POST', `/role-grants/${pending.id}/approve`, auditor.token)).json().error.code).toBe('FORBIDDEN');
    expect((await call('GET', '/role-grants?status=maybe', alice.token)).statusCode).toBe(400);
    expect((await call('POST', `/role-grants/${pending.id}/deny`, bob.token, { comment: '' })).statusCode).toBe(400);
    expect((await call('POST', '/role-grants/not-an-id/deny', bob.token)).statusCode).toBe(404);
  });
});
