import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { builtInRoles } from './permissions.js';

const PASSWORD = 'a user password here';

describe.each(dialects)('user administration on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('users-a');
    other = await t.tenantWithAdmin('users-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const login = (tenant: string, username: string, password = PASSWORD) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant, username, password } });

  /** Creates a user through the API, activates them and logs them in. */
  async function activeUser(username: string, roles?: string[], by = admin) {
    const created = await call('POST', '/users', by.token, { username, email: `${username}@x.example`, ...(roles ? { roles } : {}) });
    expect(created.statusCode, created.body).toBe(201);
    const { user, activation } = created.json();
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: by.slug, token: activation.token, password: PASSWORD } });
    const session = await login(by.slug, username);
    return { id: user.id as string, token: session.json().token as string };
  }

  it('creates a user pending activation with a one-time token; they activate and log in with the user role', async () => {
    const res = await call('POST', '/users', admin.token, { username: 'Jane.Doe', email: 'jane@a.example', displayName: 'Jane Doe' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toMatchObject({ username: 'jane.doe', status: 'pending', roles: ['user'], displayName: 'Jane Doe' });
    expect(body.activation.token).toMatch(/^csa_/);
    expect(res.body).not.toMatch(/password|hash/i);
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'users-a', token: body.activation.token, password: PASSWORD } });
    const session = await login('users-a', 'jane.doe');
    expect(session.statusCode).toBe(200);
    const me = await call('GET', '/auth/me', session.json().token);
    expect(me.json().user.roles).toEqual(['user']);
  });

  it('a user without the permission is refused with 403 FORBIDDEN and nothing is written', async () => {
    const plain = await activeUser('plain-user');
    const list = await call('GET', '/users', plain.token);
    expect(list.statusCode).toBe(403);
    expect(list.json().error.code).toBe('FORBIDDEN');
    expect(list.json().error.message).toContain('identity.users.read');
    const create = await call('POST', '/users', plain.token, { username: 'sneaky', email: 's@x.example', roles: ['tenant-admin'] });
    expect(create.statusCode).toBe(403);
    expect((await call('GET', '/users?q=sneaky', admin.token)).json().users).toEqual([]);
    expect((await call('DELETE', `/users/${plain.id}`, plain.token)).statusCode).toBe(403);
  });

  it('an auditor reads users but cannot change them; only a holder of identity.users.deactivate changes a status', async () => {
    const auditor = await activeUser('the-auditor', ['auditor']);
    expect((await call('GET', '/users', auditor.token)).statusCode).toBe(200);
    expect((await call('POST', '/users', auditor.token, { username: 'nope', email: 'n@x.example' })).statusCode).toBe(403);
    const target = await activeUser('status-target');
    const permissions = await call('GET', `/users/${auditor.id}/permissions`, admin.token);
    expect(permissions.json().permissions).toEqual([...builtInRoles.auditor!.permissions].sort());
    expect(permissions.json().permissions).toContain('audit.events.read');
    // Reading and exporting the audit trail changes nothing; every other permission of an auditor reads.
    for (const permission of permissions.json().permissions) expect(permission).toMatch(/\.(read|export)$/);
    expect((await call('PATCH', `/users/${target.id}`, auditor.token, { status: 'inactive' })).statusCode).toBe(403);
  });

  it("another tenant's user ids answer 404 on every route", async () => {
    const mine = await activeUser('private-user');
    for (const [method, url, payload] of [
      ['GET', `/users/${mine.id}`],
      ['GET', `/users/${mine.id}/permissions`],
      ['PATCH', `/users/${mine.id}`, { displayName: 'hijacked' }],
      ['DELETE', `/users/${mine.id}`],
      ['POST', `/users/${mine.id}/reset-password`],
    ] as const) {
      const res = await call(method, url, other.token, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('USER_NOT_FOUND');
    }
    expect((await call('GET', '/users', other.token)).json().users.map((u: { username: string }) => u.username)).not.toContain('private-user');
    expect((await call('GET', `/users/${mine.id}`, admin.token)).json().user.displayName).toBeNull();
    expect((await call('GET', '/users/not-an-id', admin.token)).statusCode).toBe(404);
  });

  it('bad input gets a clear 4xx and writes nothing', async () => {
    const before = (await call('GET', '/users?limit=100', admin.token)).json().users.length;
    const cases: [object, number, string][] = [
      [{ username: 'x y', email: 'a@b.example' }, 400, 'VALIDATION_FAILED'],
      [{ username: 'ok-name', email: 'not-an-email' }, 400, 'VALIDATION_FAILED'],
      [{ username: 'ok-name', email: 'a@b.example', roles: ['god'] }, 400, 'UNKNOWN_ROLE'],
      [{ username: 'ok-name', email: 'a@b.example', roles: ['Not A Role'] }, 400, 'VALIDATION_FAILED'],
      [{ username: 'ok-name', email: 'a@b.example', admin: true }, 400, 'VALIDATION_FAILED'],
      [{ username: 'jane.doe', email: 'dup@b.example' }, 409, 'USER_EXISTS'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await call('POST', '/users', admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().error.code).toBe(code);
    }
    const target = await activeUser('patch-target');
    expect((await call('PATCH', `/users/${target.id}`, admin.token, {})).json().error.code).toBe('VALIDATION_FAILED');
    expect((await call('PATCH', `/users/${target.id}`, admin.token, { status: 'deleted' })).statusCode).toBe(400);
    expect((await call('GET', '/users?limit=1000', admin.token)).statusCode).toBe(400);
    expect((await call('GET', '/users?unknown=1', admin.token)).statusCode).toBe(400);
    expect((await call('GET', '/users?limit=100', admin.token)).json().users.length).toBe(before + 1);
  });

  it('lists with filters and cursor pagination', async () => {
    for (const name of ['page-1', 'page-2', 'page-3']) await call('POST', '/users', admin.token, { username: name, email: `${name}@x.example`, roles: ['approver'] });
    const first = (await call('GET', '/users?q=page-&limit=2', admin.token)).json();
    expect(first.users.map((u: { username: string }) => u.username)).toEqual(['page-1', 'page-2']);
    const second = (await call('GET', `/users?q=page-&limit=2&cursor=${first.nextCursor}`, admin.token)).json();
    expect(second).toMatchObject({ users: [{ username: 'page-3' }], nextCursor: null });
    const approvers = (await call('GET', '/users?role=approver&status=pending', admin.token)).json().users;
    expect(approvers.map((u: { username: string }) => u.username)).toEqual(['page-1', 'page-2', 'page-3']);
  });

  it('deactivation ends every session at once, refuses login, is audited step by step, and reactivation revives no token', async () => {
    const leaver = await activeUser('leaver');
    const second = (await login('users-a', 'leaver')).json().token as string;
    expect((await call('GET', '/auth/me', leaver.token)).statusCode).toBe(200);
    const res = await call('PATCH', `/users/${leaver.id}`, admin.token, { status: 'inactive' });
    expect(res.json().user.status).toBe('inactive');
    for (const token of [leaver.token, second]) expect((await call('GET', '/auth/me', token)).json().error.code).toBe('SESSION_REVOKED');
    expect((await login('users-a', 'leaver')).json().error.code).toBe('USER_DISABLED');
    const events = await t.runtime.database.db.selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', admin.id).where('target_id', '=', leaver.id).orderBy('seq').execute();
    expect(events.map((e) => e.action)).toEqual(['user.created', 'auth.activated', 'auth.sessions.revoked', 'user.deactivated']);
    expect(JSON.parse(events[3]!.details)).toMatchObject({ reason: 'deactivated', sessionsRevoked: 2 });
    expect((await call('PATCH', `/users/${leaver.id}`, admin.token, { status: 'active' })).json().user.status).toBe('active');
    expect((await call('GET', '/auth/me', leaver.token)).statusCode).toBe(401);
    expect((await login('users-a', 'leaver')).statusCode).toBe(200);
  });

  it('delete deactivates and removes the user; the username is free again', async () => {
    const gone = await activeUser('gone-soon');
    expect((await call('DELETE', `/users/${gone.id}`, admin.token)).statusCode).toBe(204);
    expect((await call('GET', '/auth/me', gone.token)).statusCode).toBe(401);
    expect((await call('GET', `/users/${gone.id}`, admin.token)).statusCode).toBe(404);
    expect((await call('POST', '/users', admin.token, { username: 'gone-soon', email: 'again@x.example' })).statusCode).toBe(201);
  });

  it('delete leaves no row of the user in any table that refers to users', async () => {
    const gone = await activeUser('gone-for-good');
    await call('POST', '/auth/mfa/totp/enroll', gone.token);
    const group = await call('POST', '/groups', admin.token, { name: 'Former staff', members: [gone.id] });
    expect(group.statusCode, group.body).toBe(201);
    await call('POST', `/users/${gone.id}/reset-password`, admin.token);
    expect((await call('DELETE', `/users/${gone.id}`, admin.token)).statusCode).toBe(204);
    const db = t.runtime.database.db;
    const tables = (await db.introspection.getTables()).filter((table) => table.columns.some((c) => c.name === 'user_id'));
    expect(tables.map((table) => table.name)).toEqual(expect.arrayContaining(['sessions', 'group_members', 'mfa_totp', 'activation_tokens']));
    for (const table of tables) {
      const left = await db.selectFrom(table.name as 'sessions').select((eb) => eb.fn.countAll().as('n')).where('user_id', '=', gone.id).executeTakeFirstOrThrow();
      expect(Number(left.n), table.name).toBe(0);
    }
  });

  it('an admin cannot deactivate or delete themselves, nor remove the last tenant-admin', async () => {
    const self = (await call('GET', '/auth/me', admin.token)).json().user.id;
    expect((await call('PATCH', `/users/${self}`, admin.token, { status: 'inactive' })).json().error.code).toBe('CANNOT_DEACTIVATE_SELF');
    expect((await call('DELETE', `/users/${self}`, admin.token)).json().error.code).toBe('CANNOT_DEACTIVATE_SELF');
    const deputy = await activeUser('deputy', ['security-admin']);
    const demote = await call('PATCH', `/users/${self}`, deputy.token, { roles: ['user'] });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().error.code).toBe('LAST_ADMIN');
    expect((await call('DELETE', `/users/${self}`, deputy.token)).json().error.code).toBe('LAST_ADMIN');
  });

  it('a password reset issues a new token; using it ends the sessions opened with the old password', async () => {
    const forgetful = await activeUser('forgetful');
    const reset = await call('POST', `/users/${forgetful.id}/reset-password`, admin.token);
    expect(reset.statusCode).toBe(201);
    const token = reset.json().activation.token;
    const activated = await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'users-a', token, password: 'a brand new password' } });
    expect(activated.statusCode).toBe(200);
    expect((await call('GET', '/auth/me', forgetful.token)).statusCode).toBe(401);
    expect((await login('users-a', 'forgetful', 'a brand new password')).statusCode).toBe(200);
    expect((await login('users-a', 'forgetful')).statusCode).toBe(401);
  });
});
