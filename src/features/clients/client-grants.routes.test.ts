import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('API client credential grants on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  const creds: Record<string, string> = {};
  let foreign: string;

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const grantRows = (clientId: string) => db().selectFrom('client_credential_grants').select(['kind', 'value']).where('client_id', '=', clientId).orderBy('kind').orderBy('value').execute();
  async function client(name: string, by = admin) {
    const res = await call('POST', '/clients', by.token, { name, scopes: ['vault.credentials.use'] });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().client as { id: string; clientId: string };
  }
  const put = (id: string, body: object, token = admin.token) => call('PUT', `/clients/${id}/credential-grants`, token, body);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('grants-a');
    other = await t.tenantWithAdmin('grants-b');
    const device = (await call('POST', '/devices', admin.token, { name: 'db-1', address: '10.0.0.1', port: 5432, protocol: 'postgres' })).json().device;
    for (const username of ['root', 'app', 'doomed']) {
      const res = await call('POST', '/credentials', admin.token, { deviceId: device.id, username, type: 'password', secret: `Pw_${username}_Aa1-2026-xyz` });
      expect(res.statusCode, res.body).toBe(201);
      creds[username] = res.json().credential.id;
    }
    const theirs = (await call('POST', '/devices', other.token, { name: 'db-1', address: '10.0.0.1', port: 5432, protocol: 'postgres' })).json().device;
    foreign = (await call('POST', '/credentials', other.token, { deviceId: theirs.id, username: 'root', type: 'password', secret: 'Pw_foreign_Aa1-2026-xyz' })).json().credential.id;
  });
  afterAll(async () => t.close());

  it('a new client has no grants; PUT replaces them, sorted and without repeats, and records client.credential_grants_changed', async () => {
    const c = await client('Replaced');
    expect((await call('GET', `/clients/${c.id}/credential-grants`, admin.token)).json()).toEqual({ credentialIds: [], tags: [] });
    const res = await put(c.id, { credentialIds: [creds.root!, creds.app!, creds.root!], tags: ['Prod', 'payments', 'prod'] });
    expect(res.statusCode, res.body).toBe(200);
    const expected = { credentialIds: [creds.root!, creds.app!].sort(), tags: ['payments', 'prod'] };
    expect(res.json()).toEqual(expected);
    expect((await call('GET', `/clients/${c.id}/credential-grants`, admin.token)).json()).toEqual(expected);
    const second = await put(c.id, { tags: ['prod'] });
    expect(second.json()).toEqual({ credentialIds: [], tags: ['prod'] });
    expect(await grantRows(c.id)).toEqual([{ kind: 'tag', value: 'prod' }]);
    const events = await db().selectFrom('audit_events').select(['actor_kind', 'details']).where('tenant_id', '=', admin.id).where('action', '=', 'client.credential_grants_changed').where('target_id', '=', c.id).orderBy('seq').execute();
    expect(events).toHaveLength(2);
    expect(events[1]!.actor_kind).toBe('user');
    expect(JSON.parse(events[1]!.details)).toEqual({ clientId: c.clientId, credentialIds: [], tags: ['prod'], previousCredentialIds: expected.credentialIds, previousTags: expected.tags });
  });

  it('a credential id of another tenant, or of none, answers 400 UNKNOWN_CREDENTIAL and writes nothing', async () => {
    const c = await client('Foreign grant');
    for (const id of [foreign, '0190f7b2-0000-7000-8000-000000000000']) {
      const res = await put(c.id, { credentialIds: [creds.root!, id] });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'UNKNOWN_CREDENTIAL', message: expect.stringContaining(id) });
    }
    expect(await grantRows(c.id)).toEqual([]);
  });

  it("another tenant's client answers 404 CLIENT_NOT_FOUND to GET and PUT", async () => {
    const theirs = await client('Theirs', other);
    for (const res of [await call('GET', `/clients/${theirs.id}/credential-grants`, admin.token), await put(theirs.id, { tags: ['prod'] }), await put('not-an-id', { tags: ['prod'] })]) {
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.code).toBe('CLIENT_NOT_FOUND');
    }
    expect(await grantRows(theirs.id)).toEqual([]);
  });

  it('reading grants needs identity.clients.read and replacing them identity.clients.write', async () => {
    const c = await client('Guarded');
    const auditor = await activeUser(t, admin, 'grants-auditor', ['auditor']);
    const plain = await activeUser(t, admin, 'grants-user');
    expect((await call('GET', `/clients/${c.id}/credential-grants`, auditor.token)).statusCode).toBe(200);
    for (const res of [await put(c.id, { tags: ['prod'] }, auditor.token), await call('GET', `/clients/${c.id}/credential-grants`, plain.token)]) {
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect(await grantRows(c.id)).toEqual([]);
  });

  it('adding grants needs vault.credentials.use of the caller (403 SCOPE_NOT_HELD); removing them does not', async () => {
    const c = await client('Widened');
    expect((await put(c.id, { tags: ['prod'] })).statusCode).toBe(200);
    const security = await activeUser(t, admin, 'grants-security', ['security-admin']);
    const widen = await put(c.id, { tags: ['prod', 'payments'] }, security.token);
    expect(widen.statusCode, widen.body).toBe(403);
    expect(widen.json().error.code).toBe('SCOPE_NOT_HELD');
    expect(await grantRows(c.id)).toEqual([{ kind: 'tag', value: 'prod' }]);
    const narrow = await put(c.id, {}, security.token);
    expect(narrow.statusCode, narrow.body).toBe(200);
    expect(await grantRows(c.id)).toEqual([]);
  });

  it('bad input (not arrays, too many, malformed ids or tags, unknown fields) answers 400 and writes nothing', async () => {
    const c = await client('Bad input');
    const many = Array.from({ length: 501 }, (_, i) => `tag-${i}`);
    for (const body of [{ credentialIds: creds.root }, { tags: 'prod' }, { tags: many }, { credentialIds: ['root@db-1'] }, { credentialIds: [42] }, { credentialIds: [creds.root!.toUpperCase()] }, { tags: ['has space'] }, { tags: ['x'.repeat(65)] }, { scopes: [] }]) {
      const res = await put(c.id, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toEqual(expect.any(String));
    }
    expect(await grantRows(c.id)).toEqual([]);
  });

  it("deleting a client deletes its grants; a deleted credential's grant is no longer listed and matches nothing", async () => {
    const c = await client('Removed');
    expect((await put(c.id, { credentialIds: [creds.root!, creds.doomed!], tags: ['prod'] })).statusCode).toBe(200);
    expect((await call('DELETE', `/credentials/${creds.doomed}`, admin.token)).statusCode).toBe(204);
    expect((await call('GET', `/clients/${c.id}/credential-grants`, admin.token)).json()).toEqual({ credentialIds: [creds.root!], tags: ['prod'] });
    expect((await call('DELETE', `/clients/${c.id}`, admin.token)).statusCode).toBe(204);
    expect(await grantRows(c.id)).toEqual([]);
  });
});
