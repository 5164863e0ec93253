import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { hashToken } from '../../platform/crypto/tokens.js';

describe.each(dialects)('connector routes on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('conn-a');
    other = await t.tenantWithAdmin('conn-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token = admin.token, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const connectorEvents = (tenantId = admin.id) => db().selectFrom('audit_events').select(['action', 'details', 'target_id']).where('tenant_id', '=', tenantId).where('action', 'like', 'connector.%').orderBy('seq').execute();
  const rowCount = async () => Number((await db().selectFrom('connectors').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  async function create(name: string, site = 'lisbon', by = admin) {
    const res = await call('POST', '/connectors', by.token, { name, site });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { connector: Record<string, unknown> & { id: string }; token: string };
  }

  it('create answers the connector and its token once; only the token hash is stored; list and get never show it', async () => {
    const { connector, token } = await create('dc1');
    expect(token).toMatch(/^cnt_[A-Za-z0-9_-]{43}$/);
    expect(connector).toMatchObject({ name: 'dc1', site: 'lisbon', status: 'offline', connected: false, lastSeenAt: null, revokedAt: null });
    const row = await db().selectFrom('connectors').selectAll().where('id', '=', connector.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(hashToken(token));
    const everything = JSON.stringify([(await call('GET', '/connectors')).json(), (await call('GET', `/connectors/${connector.id}`)).json(), await connectorEvents(), row.name]);
    expect(everything).not.toContain(token);
    expect((await call('GET', `/connectors/${connector.id}`)).json()).toEqual({ connector });
    expect((await call('GET', '/connectors?site=lisbon')).json().connectors).toContainEqual(connector);
    expect((await call('GET', '/connectors?site=porto')).json().connectors).toEqual([]);
    expect((await connectorEvents()).filter((e) => e.target_id === connector.id).map((e) => [e.action, JSON.parse(e.details)])).toEqual([['connector.created', { name: 'dc1', site: 'lisbon' }]]);
  });

  it('names are unique in a tenant (409) but another tenant may use the same name', async () => {
    await create('unique');
    const again = await call('POST', '/connectors', admin.token, { name: 'unique', site: 'porto' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('CONNECTOR_NAME_TAKEN');
    await create('unique', 'x', other);
  });

  it('revoke by POST /revoke or DELETE marks it revoked once and audits it once; its token is then refused', async () => {
    const a = await create('to-revoke-a');
    const b = await create('to-revoke-b');
    const first = await call('POST', `/connectors/${a.connector.id}/revoke`);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().connector).toMatchObject({ status: 'revoked', connected: false });
    expect(first.json().connector.revokedAt).not.toBeNull();
    expect((await call('POST', `/connectors/${a.connector.id}/revoke`)).json().connector.revokedAt).toBe(first.json().connector.revokedAt);
    expect((await call('DELETE', `/connectors/${b.connector.id}`)).json().connector.status).toBe('revoked');
    const events = (await connectorEvents()).filter((e) => e.action === 'connector.revoked').map((e) => e.target_id);
    expect(events).toEqual([a.connector.id, b.connector.id]);
    await expect(t.runtime.services.connectors.authenticateToken(a.token, null)).rejects.toMatchObject({ code: 'CONNECTOR_REVOKED' });
    await expect(t.runtime.services.connectors.authenticateToken('cnt_wrong', null)).rejects.toMatchObject({ code: 'CONNECTOR_TOKEN_INVALID' });
  });

  it('another tenant\'s connector answers 404 on get and revoke, and stays untouched', async () => {
    const mine = await create('private');
    for (const [method, url] of [['GET', `/connectors/${mine.connector.id}`], ['POST', `/connectors/${mine.connector.id}/revoke`], ['DELETE', `/connectors/${mine.connector.id}`]] as const) {
      const res = await call(method, url, other.token);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json().error.code).toBe('CONNECTOR_NOT_FOUND');
    }
    expect((await call('GET', `/connectors/${mine.connector.id}`)).json().connector.status).toBe('offline');
    expect((await call('GET', '/connectors', other.token)).json().connectors.map((c: { id: string }) => c.id)).not.toContain(mine.connector.id);
    expect((await call('GET', '/connectors/not-an-id')).json().error.code).toBe('CONNECTOR_NOT_FOUND');
  });

  it('reading needs vault.connectors.read and creating or revoking needs vault.connectors.write (403); the auditor may read only', async () => {
    const plain = await activeUser(t, admin, 'conn-plain');
    const auditor = await activeUser(t, admin, 'conn-auditor', ['auditor']);
    const target = await create('guarded');
    const before = await rowCount();
    for (const [method, url, body] of [['GET', '/connectors'], ['GET', `/connectors/${target.connector.id}`], ['POST', '/connectors', { name: 'x', site: 'y' }], ['POST', `/connectors/${target.connector.id}/revoke`], ['DELETE', `/connectors/${target.connector.id}`]] as const) {
      const res = await call(method, url, plain.token, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    expect((await call('GET', '/connectors', auditor.token)).statusCode).toBe(200);
    expect((await call('POST', '/connectors', auditor.token, { name: 'x', site: 'y' })).statusCode).toBe(403);
    expect((await call('POST', `/connectors/${target.connector.id}/revoke`, auditor.token)).statusCode).toBe(403);
    expect(await rowCount()).toBe(before);
    expect((await call('GET', `/connectors/${target.connector.id}`)).json().connector.status).toBe('offline');
  });

  it('bad input answers 400 with a code and writes nothing: missing or empty fields, wrong types, unknown fields, oversize', async () => {
    const before = await rowCount();
    for (const body of [{ name: 'x' }, { site: 'y' }, { name: '', site: 'y' }, { name: 'x', site: '   ' }, { name: 5, site: 'y' }, { name: 'x', site: 'y', token: 'mine' }, { name: 'x'.repeat(201), site: 'y' }, { name: 'x', site: 'y'.repeat(101) }]) {
      const res = await call('POST', '/connectors', admin.token, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toMatch(/^[A-Z_]+$/);
    }
    expect((await call('GET', '/connectors?status=up')).statusCode).toBe(400);
    expect(await rowCount()).toBe(before);
  });

  it('a device may name its own tenant\'s live connector; another tenant\'s answers 404, a revoked one 400; null reaches it directly again', async () => {
    const mine = await create('for-devices');
    const theirs = await create('theirs', 'x', other);
    const device = { name: 'db-behind', address: '10.9.0.5', port: 5432, protocol: 'postgres' };
    const created = await call('POST', '/devices', admin.token, { ...device, connectorId: mine.connector.id });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().device.connectorId).toBe(mine.connector.id);
    const foreign = await call('POST', '/devices', admin.token, { ...device, name: 'db-foreign', connectorId: theirs.connector.id });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().error.code).toBe('CONNECTOR_NOT_FOUND');
    const id = created.json().device.id as string;
    const patchedForeign = await call('PATCH', `/devices/${id}`, admin.token, { connectorId: theirs.connector.id });
    expect(patchedForeign.json().error.code).toBe('CONNECTOR_NOT_FOUND');
    const cleared = await call('PATCH', `/devices/${id}`, admin.token, { connectorId: null });
    expect(cleared.json().device.connectorId).toBeNull();
    const updated = (await db().selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).where('action', '=', 'device.updated').where('target_id', '=', id).orderBy('seq').execute()).map((e) => JSON.parse(e.details).fields);
    expect(updated).toEqual([['connectorId']]);
    await call('POST', `/connectors/${mine.connector.id}/revoke`);
    const revoked = await call('PATCH', `/devices/${id}`, admin.token, { connectorId: mine.connector.id });
    expect(revoked.statusCode).toBe(400);
    expect(revoked.json().error.code).toBe('CONNECTOR_REVOKED');
    expect((await call('POST', '/devices', admin.token, { ...device, name: 'db-revoked', connectorId: mine.connector.id })).json().error.code).toBe('CONNECTOR_REVOKED');
    expect((await call('GET', `/devices/${id}`)).json().device.connectorId).toBeNull();
  });
});
