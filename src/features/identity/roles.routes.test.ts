import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { permissionCatalogue } from './permissions.js';

describe.each(dialects)('custom roles on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('roles-a');
    other = await t.tenantWithAdmin('roles-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  async function createRole(body: object, by = admin) {
    const res = await call('POST', '/roles', by.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().role as { id: string; name: string; permissions: string[] };
  }

  it('publishes the permission catalogue and every role with what it grants', async () => {
    const catalogue = (await call('GET', '/permissions', admin.token)).json().permissions;
    expect(catalogue.map((p: { name: string }) => p.name)).toEqual(Object.keys(permissionCatalogue));
    for (const { name } of catalogue) expect(name).toMatch(/^[a-z]+\.[a-z-]+\.[a-z]+$/);
    const roles = (await call('GET', '/roles', admin.token)).json().roles;
    expect(roles.filter((r: { builtIn: boolean }) => r.builtIn).map((r: { name: string }) => r.name)).toEqual(['tenant-admin', 'security-admin', 'vault-admin', 'approver', 'auditor', 'user']);
  });

  it('a custom role grants exactly its permissions, and a change to it applies on the next request', async () => {
    const helpdesk = await createRole({ name: 'helpdesk', description: 'Looks users up', permissions: ['identity.users.read', 'identity.users.read'] });
    expect(helpdesk.permissions).toEqual(['identity.users.read']);
    const sam = await activeUser(t, admin, 'sam', ['helpdesk']);
    expect((await call('GET', '/users', sam.token)).statusCode).toBe(200);
    expect((await call('POST', '/users', sam.token, { username: 'x', email: 'x@x.example' })).json().error.code).toBe('FORBIDDEN');
    expect((await call('GET', `/users/${sam.id}/permissions`, admin.token)).json().permissions).toEqual(['identity.users.read']);
    const patched = await call('PATCH', `/roles/${helpdesk.id}`, admin.token, { permissions: ['identity.users.read', 'identity.users.write'] });
    expect(patched.statusCode, patched.body).toBe(200);
    expect((await call('POST', '/users', sam.token, { username: 'made-by-sam', email: 'm@x.example' })).statusCode).toBe(201);
    await call('PATCH', `/roles/${helpdesk.id}`, admin.token, { permissions: ['identity.roles.read'] });
    expect((await call('GET', '/users', sam.token)).statusCode).toBe(403);
    const listed = (await call('GET', '/roles', admin.token)).json().roles.find((r: { name: string }) => r.name === 'helpdesk');
    expect(listed).toMatchObject({ id: helpdesk.id, builtIn: false, description: 'Looks users up', permissions: ['identity.roles.read'] });
  });

  it('refuses built-in or taken names, unknown permissions and bad names, writing nothing', async () => {
    await createRole({ name: 'taken', permissions: ['audit.events.read'] });
    expect((await call('POST', '/roles', admin.token, { name: 'auditor', permissions: ['audit.events.read'] })).json().error.code).toBe('ROLE_EXISTS');
    expect((await call('POST', '/roles', admin.token, { name: 'taken', permissions: ['audit.events.read'] })).json().error.code).toBe('ROLE_EXISTS');
    const unknown = await call('POST', '/roles', admin.token, { name: 'weird', permissions: ['vault.everything.own'] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toContain('/api/v1/permissions');
    expect((await call('POST', '/roles', admin.token, { name: 'Bad Name', permissions: ['audit.events.read'] })).statusCode).toBe(400);
    expect((await call('POST', '/roles', admin.token, { name: 'empty', permissions: [] })).statusCode).toBe(400);
    expect((await call('GET', '/roles', admin.token)).json().roles.map((r: { name: string }) => r.name)).not.toContain('weird');
    expect((await call('POST', '/users', admin.token, { username: 'y', email: 'y@x.example', roles: ['no-such-role'] })).json().error.code).toBe('UNKNOWN_ROLE');
  });

  it('a role in use cannot be deleted; once no one holds it, it can', async () => {
    const temp = await createRole({ name: 'temporary', permissions: ['audit.events.read'] });
    const holder = await activeUser(t, admin, 'holder', ['temporary']);
    const refused = await call('DELETE', `/roles/${temp.id}`, admin.token);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('ROLE_IN_USE');
    await call('PATCH', `/users/${holder.id}`, admin.token, { roles: ['user'] });
    expect((await call('DELETE', `/roles/${temp.id}`, admin.token)).statusCode).toBe(204);
    const actions = (await t.runtime.database.db.selectFrom('audit_events').select('action').where('tenant_id', '=', admin.id).where('target_id', '=', temp.id).orderBy('seq').execute()).map((e) => e.action);
    expect(actions).toEqual(['role.created', 'role.deleted']);
  });

  it('no one hands out permissions they do not hold: not in a role, not by granting a role', async () => {
    await createRole({ name: 'people-admin', permissions: ['identity.users.read', 'identity.users.write', 'identity.roles.read', 'identity.roles.write'] });
    const pat = await activeUser(t, admin, 'pat', ['people-admin']);
    const role = await call('POST', '/roles', pat.token, { name: 'sneaky', permissions: ['settings.network.write'] });
    expect(role.statusCode).toBe(403);
    expect(role.json().error.code).toBe('PERMISSION_NOT_HELD');
    const self = await call('PATCH', `/users/${pat.id}`, pat.token, { roles: ['people-admin', 'tenant-admin'] });
    expect(self.json().error.code).toBe('PERMISSION_NOT_HELD');
    expect((await call('GET', `/users/${pat.id}`, admin.token)).json().user.roles).toEqual(['people-admin']);
    expect((await call('POST', '/roles', pat.token, { name: 'lesser', permissions: ['identity.users.read'] })).statusCode).toBe(201);
  });

  it("another tenant's role answers 404, and changing roles needs identity.roles.write", async () => {
    const theirs = await createRole({ name: 'theirs', permissions: ['audit.events.read'] }, other);
    for (const [method, body] of [['GET'], ['PATCH', { description: 'mine now' }], ['DELETE']] as const) {
      const res = await call(method, `/roles/${theirs.id}`, admin.token, body);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('ROLE_NOT_FOUND');
    }
    expect((await call('GET', '/roles', admin.token)).json().roles.map((r: { name: string }) => r.name)).not.toContain('theirs');
    expect((await call('POST', '/users', admin.token, { username: 'z', email: 'z@x.example', roles: ['theirs'] })).json().error.code).toBe('UNKNOWN_ROLE');
    const auditor = await activeUser(t, admin, 'auditor2', ['auditor']);
    expect((await call('GET', '/roles', auditor.token)).statusCode).toBe(200);
    expect((await call('POST', '/roles', auditor.token, { name: 'nope', permissions: ['audit.events.read'] })).json().error.code).toBe('FORBIDDEN');
    const plain = await activeUser(t, admin, 'plain2');
    expect((await call('GET', '/permissions', plain.token)).statusCode).toBe(403);
  });
});
