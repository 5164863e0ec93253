import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

const PASSWORD = 'a user password here';
type ClientView = { id: string; clientId: string; name: string; scopes: string[]; allowedCidrs: string[]; expiresAt: string | null; status: string; createdBy: string; createdAt: string; updatedAt: string; secretRotatedAt: string; lastTokenAt: string | null };

describe.each(dialects)('API client management on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('clients-a');
    other = await t.tenantWithAdmin('clients-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const db = () => t.runtime.database.db;

  /** Creates a client as the admin (or another caller); answers it and its secret. */
  async function create(body: object, by: { token: string } = admin) {
    const res = await call('POST', '/clients', by.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { client: ClientView; clientSecret: string };
  }
  const rowCount = async (tenantId = admin.id) =>
    Number((await db().selectFrom('api_clients').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  const auditEvents = (tenantId = admin.id) =>
    db().selectFrom('audit_events').select(['action', 'target_id', 'details', 'actor_id', 'actor_kind']).where('tenant_id', '=', tenantId).where('action', 'like', 'client.%').orderBy('seq').execute();

  /** Creates a user through the API with these roles, activates them and logs them in. */
  async function activeUser(username: string, roles: string[]) {
    const created = await call('POST', '/users', admin.token, { username, email: `${username}@x.example`, roles });
    expect(created.statusCode, created.body).toBe(201);
    const { user, activation } = created.json();
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: admin.slug, token: activation.token, password: PASSWORD } });
    const session = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: admin.slug, username, password: PASSWORD } });
    expect(session.statusCode, session.body).toBe(200);
    return { id: user.id as string, token: session.json().token as string };
  }

  it('creates a client with sorted scopes and a secret shown once; list and get never show the secret', async () => {
    const { client, clientSecret } = await create({ name: '  Billing sync ', scopes: ['settings.network.read', 'identity.users.read', 'identity.users.read'], allowedCidrs: ['203.0.113.0/24', '2001:db8::/32', '203.0.113.0/24'], expiresAt: '2027-01-01T00:00:00+01:00' });
    const self = (await call('GET', '/auth/me', admin.token)).json().user.id;
    expect(client).toEqual({
      id: expect.any(String), clientId: expect.stringMatching(/^cci_[A-Za-z0-9_-]{22}$/), name: 'Billing sync', scopes: ['identity.users.read', 'settings.network.read'],
      allowedCidrs: ['203.0.113.0/24', '2001:db8::/32'], expiresAt: '2026-12-31T23:00:00.000Z', status: 'active', createdBy: self,
      createdAt: '2026-01-05T09:00:00.000Z', updatedAt: '2026-01-05T09:00:00.000Z', secretRotatedAt: '2026-01-05T09:00:00.000Z', lastTokenAt: null,
    });
    expect(clientSecret).toMatch(/^ccs_[A-Za-z0-9_-]{43}$/);
    const plain = await create({ name: 'No extras', scopes: ['audit.events.read'] });
    expect(plain.client).toMatchObject({ allowedCidrs: [], expiresAt: null });
    expect(plain.client.clientId).not.toBe(client.clientId);
    const listed = await call('GET', '/clients', admin.token);
    expect(listed.json().clients.slice(0, 2)).toEqual([client, plain.client]);
    const one = await call('GET', `/clients/${client.id}`, admin.token);
    expect(one.json()).toEqual({ client });
    for (const res of [listed, one]) expect(res.body).not.toContain(clientSecret);
  });

  it('stores the secret only as its SHA-256 hash; no table and no audit event holds it', async () => {
    const { client, clientSecret } = await create({ name: 'Hash check', scopes: ['identity.users.read'] });
    const row = await db().selectFrom('api_clients').selectAll().where('tenant_id', '=', admin.id).where('id', '=', client.id).executeTakeFirstOrThrow();
    expect(row.secret_hash).toBe(createHash('sha256').update(clientSecret).digest('hex'));
    const rotated = (await call('POST', `/clients/${client.id}/secret`, admin.token)).json().clientSecret as string;
    for (const table of ['api_clients', 'client_tokens', 'audit_events'] as const) {
      const dump = JSON.stringify(await db().selectFrom(table).selectAll().execute());
      expect(dump, table).not.toContain(clientSecret);
      expect(dump, table).not.toContain(rotated);
      expect(dump, table).not.toContain(clientSecret.slice(4));
    }
  });

  it('PATCH changes only the fields sent, null removes the expiry, and a no-op changes nothing', async () => {
    const { client } = await create({ name: 'Patch me', scopes: ['identity.users.read'], expiresAt: '2026-06-01T00:00:00Z' });
    t.clock.advance(1000);
    const res = await call('PATCH', `/clients/${client.id}`, admin.token, { name: 'Patched', scopes: ['settings.network.read', 'identity.users.read'], allowedCidrs: ['10.0.0.0/8'] });
    expect(res.statusCode, res.body).toBe(200);
    const updatedAt = new Date(Date.parse(client.createdAt) + 1000).toISOString();
    expect(res.json().client).toEqual({ ...client, name: 'Patched', scopes: ['identity.users.read', 'settings.network.read'], allowedCidrs: ['10.0.0.0/8'], updatedAt });
    const noExpiry = (await call('PATCH', `/clients/${client.id}`, admin.token, { expiresAt: null })).json().client;
    expect(noExpiry.expiresAt).toBeNull();
    const before = (await auditEvents()).length;
    const same = await call('PATCH', `/clients/${client.id}`, admin.token, { name: 'Patched', status: 'active', allowedCidrs: ['10.0.0.0/8'] });
    expect(same.json().client).toEqual(noExpiry);
    expect((await auditEvents()).length).toBe(before);
  });

  it('DELETE removes a client with 204; it then answers 404 and leaves the list', async () => {
    const { client } = await create({ name: 'Short lived', scopes: ['identity.users.read'] });
    const res = await call('DELETE', `/clients/${client.id}`, admin.token);
    expect(res.statusCode).toBe(204);
    expect((await call('GET', `/clients/${client.id}`, admin.token)).json().error.code).toBe('CLIENT_NOT_FOUND');
    expect((await call('DELETE', `/clients/${client.id}`, admin.token)).statusCode).toBe(404);
    expect((await call('GET', '/clients', admin.token)).json().clients.map((c: ClientView) => c.id)).not.toContain(client.id);
  });

  it('filters the list by status', async () => {
    const { client } = await create({ name: 'Filtered', scopes: ['identity.users.read'] });
    await call('PATCH', `/clients/${client.id}`, admin.token, { status: 'inactive' });
    const ids = async (status: string) => (await call('GET', `/clients?status=${status}`, admin.token)).json().clients.map((c: ClientView) => c.id);
    expect(await ids('inactive')).toEqual([client.id]);
    expect(await ids('active')).not.toContain(client.id);
    expect((await call('GET', '/clients?status=gone', admin.token)).statusCode).toBe(400);
  });

  it('a name is unique in the tenant: 409 CLIENT_NAME_TAKEN on create and rename; other tenants may reuse it', async () => {
    await create({ name: 'Unique name', scopes: ['identity.users.read'] });
    const again = await call('POST', '/clients', admin.token, { name: 'Unique name', scopes: ['identity.users.read'] });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('CLIENT_NAME_TAKEN');
    const { client } = await create({ name: 'Another name', scopes: ['identity.users.read'] });
    const rename = await call('PATCH', `/clients/${client.id}`, admin.token, { name: 'Unique name' });
    expect(rename.json().error.code).toBe('CLIENT_NAME_TAKEN');
    await create({ name: 'Unique name', scopes: ['identity.users.read'] }, other);
  });

  it("another tenant's ids and junk ids answer 404 CLIENT_NOT_FOUND on every :id route, changing nothing", async () => {
    const { client } = await create({ name: 'Private client', scopes: ['identity.users.read'] });
    const hashBefore = (await db().selectFrom('api_clients').select('secret_hash').where('id', '=', client.id).executeTakeFirstOrThrow()).secret_hash;
    for (const id of [client.id, 'not-an-id', '00000000-0000-7000-8000-000000000000']) {
      for (const [method, url, payload] of [['GET', ''], ['PATCH', '', { name: 'hijacked' }], ['DELETE', ''], ['POST', '/secret']] as const) {
        const res = await call(method, `/clients/${id}${url}`, other.token, payload);
        expect(res.statusCode, `${method} ${id}${url}`).toBe(404);
        expect(res.json().error.code).toBe('CLIENT_NOT_FOUND');
      }
    }
    expect((await call('GET', `/clients/${client.id}`, admin.token)).json().client).toEqual(client);
    expect((await db().selectFrom('api_clients').select('secret_hash').where('id', '=', client.id).executeTakeFirstOrThrow()).secret_hash).toBe(hashBefore);
    expect((await call('GET', '/clients', other.token)).json().clients.map((c: ClientView) => c.id)).not.toContain(client.id);
    expect((await auditEvents(other.id)).filter((e) => e.target_id === client.id)).toEqual([]);
  });

  it('without identity.clients.write every change is 403 FORBIDDEN and nothing is written; an auditor reads, a security-admin writes', async () => {
    const { client } = await create({ name: 'Guarded', scopes: ['identity.users.read'] });
    const plain = await activeUser('clients-plain', ['user']);
    const auditor = await activeUser('clients-auditor', ['auditor']);
    const securityAdmin = await activeUser('clients-secadmin', ['security-admin']);
    const before = { rows: await rowCount(), events: (await auditEvents()).length };
    const routes = [
      ['GET', '/clients'],
      ['GET', `/clients/${client.id}`],
      ['POST', '/clients', { name: 'Sneaky', scopes: ['identity.users.read'] }],
      ['PATCH', `/clients/${client.id}`, { name: 'hijacked' }],
      ['DELETE', `/clients/${client.id}`],
      ['POST', `/clients/${client.id}/secret`],
    ] as const;
    for (const [method, url, payload] of routes) {
      const res = await call(method, url, plain.token, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
      expect(res.json().error.message).toContain(method === 'GET' ? 'identity.clients.read' : 'identity.clients.write');
      if (method !== 'GET') expect((await call(method, url, auditor.token, payload)).statusCode, `auditor ${method} ${url}`).toBe(403);
    }
    expect((await call('GET', '/clients', auditor.token)).statusCode).toBe(200);
    expect((await call('GET', `/clients/${client.id}`, auditor.token)).statusCode).toBe(200);
    expect({ rows: await rowCount(), events: (await auditEvents()).length }).toEqual(before);
    expect((await call('POST', '/clients', securityAdmin.token, { name: 'By security admin', scopes: ['identity.users.read'] })).statusCode).toBe(201);
  });

  it('a user may give a client only scopes they hold: 403 SCOPE_NOT_HELD on create, on adding scopes and on rotating a stronger client', async () => {
    const role = await call('POST', '/roles', admin.token, { name: 'client-keeper', permissions: ['identity.clients.read', 'identity.clients.write', 'identity.users.read'] });
    expect(role.statusCode, role.body).toBe(201);
    const keeper = await activeUser('clients-keeper', ['client-keeper']);
    const before = { rows: await rowCount(), events: (await auditEvents()).length };
    const refused = await call('POST', '/clients', keeper.token, { name: 'Too strong', scopes: ['identity.users.read', 'identity.users.write'] });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: 'SCOPE_NOT_HELD', message: expect.stringContaining('identity.users.write') });
    expect({ rows: await rowCount(), events: (await auditEvents()).length }).toEqual(before);
    const { client } = await create({ name: 'Keeper made', scopes: ['identity.users.read'] }, keeper);
    const widen = await call('PATCH', `/clients/${client.id}`, keeper.token, { scopes: ['identity.users.read', 'settings.network.read'] });
    expect(widen.json().error.code).toBe('SCOPE_NOT_HELD');
    const strong = await create({ name: 'Admin made', scopes: ['identity.users.read', 'identity.users.write'] });
    // Reviving it, widening its ranges or lifting its expiry hands out everything it holds.
    expect((await call('PATCH', `/clients/${strong.client.id}`, admin.token, { status: 'inactive' })).statusCode).toBe(200);
    for (const patch of [{ status: 'active' }, { allowedCidrs: ['0.0.0.0/0'] }, { expiresAt: null }]) {
      expect((await call('PATCH', `/clients/${strong.client.id}`, keeper.token, patch)).json().error.code, JSON.stringify(patch)).toBe('SCOPE_NOT_HELD');
    }
    expect((await call('PATCH', `/clients/${strong.client.id}`, keeper.token, { name: 'Renamed by keeper' })).statusCode).toBe(200);
    expect((await call('PATCH', `/clients/${strong.client.id}`, admin.token, { status: 'active' })).statusCode).toBe(200);
    // Narrowing needs nothing more than what stays; taking the secret needs every scope the client has.
    expect((await call('POST', `/clients/${strong.client.id}/secret`, keeper.token)).json().error.code).toBe('SCOPE_NOT_HELD');
    expect((await call('PATCH', `/clients/${strong.client.id}`, keeper.token, { scopes: ['identity.users.read'] })).statusCode).toBe(200);
    expect((await call('POST', `/clients/${strong.client.id}/secret`, keeper.token)).statusCode).toBe(200);
  });

  it('bad input gets 400 with a clear code and writes nothing', async () => {
    const { client } = await create({ name: 'Validate me', scopes: ['identity.users.read'] });
    const before = { rows: await rowCount(), events: (await auditEvents()).length };
    const valid = { name: 'Someone', scopes: ['identity.users.read'] };
    const cases: [object, string, string?][] = [
      [{ ...valid, scopes: ['vault.everything'] }, 'UNKNOWN_SCOPE', 'vault.everything'],
      [{ ...valid, scopes: ['identity.users.read', 'identity.users.fly'] }, 'UNKNOWN_SCOPE', 'identity.users.fly'],
      [{ ...valid, scopes: [] }, 'VALIDATION_FAILED', 'at least one scope'],
      [{ ...valid, scopes: 'identity.users.read' }, 'VALIDATION_FAILED'],
      [{ ...valid, scopes: ['Identity Users'] }, 'VALIDATION_FAILED', 'permission name'],
      [{ name: 'No scopes' }, 'VALIDATION_FAILED'],
      [{ ...valid, allowedCidrs: ['10.0.0.0/33'] }, 'VALIDATION_FAILED', 'IPv4 or IPv6'],
      [{ ...valid, allowedCidrs: ['example.com'] }, 'VALIDATION_FAILED', 'IPv4 or IPv6'],
      [{ ...valid, expiresAt: 'tomorrow' }, 'VALIDATION_FAILED', 'ISO 8601'],
      [{ ...valid, expiresAt: '2025-01-01T00:00:00Z' }, 'CLIENT_EXPIRY_PAST'],
      [{ ...valid, name: '   ' }, 'VALIDATION_FAILED'],
      [{ ...valid, name: 'x'.repeat(201) }, 'VALIDATION_FAILED'],
      [{ ...valid, clientSecret: 'ccs_mine' }, 'VALIDATION_FAILED'],
      [{ ...valid, status: 'inactive' }, 'VALIDATION_FAILED'],
    ];
    for (const [payload, code, message] of cases) {
      const res = await call('POST', '/clients', admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code, JSON.stringify(payload)).toBe(code);
      if (message) expect(res.json().error.message).toContain(message);
    }
    for (const [patch, code] of [
      [{}, 'VALIDATION_FAILED'],
      [{ scopes: ['nope.nope.nope'] }, 'UNKNOWN_SCOPE'],
      [{ status: 'deleted' }, 'VALIDATION_FAILED'],
      [{ expiresAt: '2020-01-01T00:00:00Z' }, 'CLIENT_EXPIRY_PAST'],
      [{ clientId: 'cci_mine' }, 'VALIDATION_FAILED'],
      [{ name: null }, 'VALIDATION_FAILED'],
    ] as const) {
      const res = await call('PATCH', `/clients/${client.id}`, admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    expect({ rows: await rowCount(), events: (await auditEvents()).length }).toEqual(before);
    expect((await call('GET', `/clients/${client.id}`, admin.token)).json().client).toEqual(client);
  });

  it('every change writes its audit event, never with the secret, and the chain verifies', async () => {
    const { client, clientSecret } = await create({ name: 'Audited', scopes: ['identity.users.read'], allowedCidrs: ['10.0.0.0/8'] });
    await call('PATCH', `/clients/${client.id}`, admin.token, { scopes: ['identity.users.read', 'settings.network.read'], allowedCidrs: [] });
    await call('PATCH', `/clients/${client.id}`, admin.token, { status: 'inactive' });
    await call('PATCH', `/clients/${client.id}`, admin.token, { status: 'active' });
    const rotated = (await call('POST', `/clients/${client.id}/secret`, admin.token)).json().clientSecret as string;
    await call('DELETE', `/clients/${client.id}`, admin.token);
    const self = (await call('GET', '/auth/me', admin.token)).json().user.id;
    const events = (await auditEvents()).filter((e) => e.target_id === client.id);
    expect(events.map((e) => [e.action, JSON.parse(e.details), e.actor_id, e.actor_kind])).toEqual([
      ['client.created', { name: 'Audited', clientId: client.clientId, scopes: ['identity.users.read'], allowedCidrs: ['10.0.0.0/8'], expiresAt: null }, self, 'user'],
      ['client.updated', { fields: ['scopes', 'allowedCidrs'], name: 'Audited', scopes: ['identity.users.read', 'settings.network.read'], allowedCidrs: [], expiresAt: null }, self, 'user'],
      ['client.deactivated', { clientId: client.clientId, tokensRevoked: 0 }, self, 'user'],
      ['client.reactivated', { clientId: client.clientId }, self, 'user'],
      ['client.secret_rotated', { clientId: client.clientId, tokensRevoked: 0 }, self, 'user'],
      ['client.deleted', { name: 'Audited', clientId: client.clientId, tokensRevoked: 0 }, self, 'user'],
    ]);
    for (const e of events) {
      expect(e.details).not.toContain(clientSecret);
      expect(e.details).not.toContain(rotated);
    }
    expect(await t.runtime.audit.verify(db(), admin.id)).toMatchObject({ ok: true });
  });

  it('the routes are documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/api/v1/clients'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/clients/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(Object.keys(doc.paths['/api/v1/clients/{id}/secret'])).toEqual(['post']);
    expect(doc.paths['/api/v1/clients'].post.requestBody.content['application/json'].schema.required).toEqual(['name', 'scopes']);
  });
});
