import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('devices on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('dev-a');
    other = await t.tenantWithAdmin('dev-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, token = admin.token, payload?: object) => apiCall(t, method, url, token, payload);
  /** Adds a device as the admin (or another caller) and answers it. */
  async function create(body: object, token = admin.token) {
    const res = await call('POST', '/devices', token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().device;
  }
  const db = () => t.runtime.database.db;
  const counts = async (tenantId = admin.id) => {
    const n = async (table: 'devices' | 'device_protocols' | 'device_tags' | 'audit_events') => Number((await db().selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
    return { devices: await n('devices'), protocols: await n('device_protocols'), tags: await n('device_tags'), events: await n('audit_events') };
  };
  const events = (tenantId = admin.id) => db().selectFrom('audit_events').select(['action', 'target_id', 'details', 'actor_id', 'category', 'type_id']).where('tenant_id', '=', tenantId).where('action', 'like', 'device.%').orderBy('seq').execute();

  it('creates a device with the DESIGN fields only, defaulting the rest; the main protocol is among its protocols', async () => {
    const device = await create({ name: 'db01', address: 'DB01.Acme.Internal.', port: 5432, protocol: 'postgres' });
    expect(device).toEqual({
      id: expect.any(String), name: 'db01', address: 'db01.acme.internal', port: 5432, protocol: 'postgres', protocols: [{ protocol: 'postgres', port: 5432 }], type: null, vendor: null, model: null, site: null,
      tags: [], criticality: 'medium', status: 'active', description: null, connectorId: null, createdAt: expect.any(String), updatedAt: device.createdAt,
    });
    expect((await call('GET', `/devices/${device.id}`)).json()).toEqual({ device });
  });

  it('creates a device with every attribute: extra protocols sorted, tags normalised, IPv6 literals unbracketed', async () => {
    const device = await create({
      name: 'fw-edge', address: '[FD00::12]', port: 22, protocol: 'ssh', protocols: [{ protocol: 'https', port: 8443 }, { protocol: 'ssh', port: 22 }, { protocol: 'snmp', port: 161 }],
      type: 'firewall', vendor: 'Fortinet', model: 'FG-100F', site: 'lisbon', tags: ['PCI', 'edge', 'pci'], criticality: 'high', status: 'inactive', description: 'Edge firewall',
    });
    expect(device).toMatchObject({ address: 'fd00::12', protocols: [{ protocol: 'https', port: 8443 }, { protocol: 'snmp', port: 161 }, { protocol: 'ssh', port: 22 }], tags: ['edge', 'pci'], criticality: 'high', status: 'inactive', vendor: 'Fortinet' });
  });

  it('a name is unique in the tenant (409 DEVICE_EXISTS, also on rename) but free in another tenant', async () => {
    const first = await create({ name: 'unique-1', address: '10.0.0.1', port: 22, protocol: 'ssh' });
    const again = await call('POST', '/devices', admin.token, { name: 'unique-1', address: '10.0.0.2', port: 22, protocol: 'ssh' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'DEVICE_EXISTS', message: expect.stringContaining('unique-1') });
    await create({ name: 'unique-1', address: '10.0.0.1', port: 22, protocol: 'ssh' }, other.token);
    const second = await create({ name: 'unique-2', address: '10.0.0.2', port: 22, protocol: 'ssh' });
    const rename = await call('PATCH', `/devices/${second.id}`, admin.token, { name: 'unique-1' });
    expect(rename.statusCode).toBe(409);
    expect(rename.json().error.code).toBe('DEVICE_EXISTS');
    expect((await call('GET', `/devices/${first.id}`)).json().device.name).toBe('unique-1');
  });

  it('PATCH changes only the fields sent; null clears a label; protocols and tags replace the sets; a no-op writes nothing', async () => {
    const device = await create({ name: 'patch-me', address: 'patch.acme.internal', port: 22, protocol: 'ssh', protocols: [{ protocol: 'https', port: 443 }], site: 'porto', vendor: 'Dell', tags: ['a', 'b'] });
    t.clock.advance(1000);
    const moved = (await call('PATCH', `/devices/${device.id}`, admin.token, { site: 'lisbon', vendor: null, tags: ['c'] })).json().device;
    expect(moved).toEqual({ ...device, site: 'lisbon', vendor: null, tags: ['c'], updatedAt: new Date(Date.parse(device.createdAt) + 1000).toISOString() });
    // A new main port replaces its protocol's row; a new main protocol keeps the ones it spoke before.
    const port = (await call('PATCH', `/devices/${device.id}`, admin.token, { port: 2222 })).json().device;
    expect(port.protocols).toEqual([{ protocol: 'https', port: 443 }, { protocol: 'ssh', port: 2222 }]);
    const rdp = (await call('PATCH', `/devices/${device.id}`, admin.token, { protocol: 'rdp', port: 3389 })).json().device;
    expect(rdp.protocols).toEqual([{ protocol: 'https', port: 443 }, { protocol: 'rdp', port: 3389 }, { protocol: 'ssh', port: 2222 }]);
    const only = (await call('PATCH', `/devices/${device.id}`, admin.token, { protocols: [] })).json().device;
    expect(only.protocols).toEqual([{ protocol: 'rdp', port: 3389 }]);
    const before = await counts();
    const same = await call('PATCH', `/devices/${device.id}`, admin.token, { site: 'lisbon', protocol: 'rdp', tags: ['c'] });
    expect(same.json().device).toEqual(only);
    expect(await counts()).toEqual(before);
  });

  it('PUT replaces the device: omitted optional fields return to their defaults', async () => {
    const device = await create({ name: 'put-me', address: '10.1.1.1', port: 22, protocol: 'ssh', protocols: [{ protocol: 'https', port: 443 }], site: 'porto', tags: ['x'], criticality: 'high', description: 'old' });
    const res = await call('PUT', `/devices/${device.id}`, admin.token, { name: 'put-me-2', address: '10.1.1.2', port: 3389, protocol: 'rdp', vendor: 'HP' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().device).toMatchObject({ name: 'put-me-2', address: '10.1.1.2', port: 3389, protocol: 'rdp', protocols: [{ protocol: 'rdp', port: 3389 }], site: null, tags: [], criticality: 'medium', description: null, vendor: 'HP' });
    expect((await call('PUT', `/devices/${device.id}`, admin.token, { name: 'put-me-2' })).statusCode).toBe(400);
  });

  it('bad input gets 400 with a code and a message that says what to send, and writes nothing', async () => {
    const target = await create({ name: 'validate-me', address: '10.2.2.2', port: 22, protocol: 'ssh' });
    const before = await counts();
    const valid = { name: 'new-device', address: 'host.acme.internal', port: 22, protocol: 'ssh' };
    const cases: [object, string, string?][] = [
      [{ ...valid, unknown: 1 }, 'VALIDATION_FAILED'],
      [{ ...valid, address: '999.1.1.1' }, 'VALIDATION_FAILED', 'address is a hostname'],
      [{ ...valid, address: 'bad host' }, 'VALIDATION_FAILED', 'address is a hostname'],
      [{ ...valid, address: 'under_score.example' }, 'VALIDATION_FAILED', 'address is a hostname'],
      [{ ...valid, address: '-lead.example' }, 'VALIDATION_FAILED', 'address is a hostname'],
      [{ ...valid, address: `${'a'.repeat(64)}.example` }, 'VALIDATION_FAILED', 'address is a hostname'],
      [{ ...valid, address: '' }, 'VALIDATION_FAILED'],
      [{ ...valid, address: '1.2.3.4/24' }, 'VALIDATION_FAILED', 'address is a hostname'],
      [{ ...valid, port: 0 }, 'VALIDATION_FAILED', 'port must be a whole number from 1 to 65535'],
      [{ ...valid, port: 65536 }, 'VALIDATION_FAILED', 'port must be a whole number from 1 to 65535'],
      [{ ...valid, port: 22.5 }, 'VALIDATION_FAILED', 'port must be a whole number'],
      [{ ...valid, port: '22' }, 'VALIDATION_FAILED'],
      [{ ...valid, protocol: 'gopher' }, 'VALIDATION_FAILED', 'A protocol is one of: ssh'],
      [{ ...valid, protocols: [{ protocol: 'gopher', port: 70 }] }, 'VALIDATION_FAILED', 'A protocol is one of'],
      [{ ...valid, protocols: [{ protocol: 'https', port: 443 }, { protocol: 'https', port: 8443 }] }, 'PROTOCOL_REPEATED', 'https twice'],
      [{ ...valid, protocols: [{ protocol: 'ssh', port: 2222 }] }, 'PROTOCOL_PORT_MISMATCH', 'main protocol is ssh on port 22'],
      [{ ...valid, criticality: 'extreme' }, 'VALIDATION_FAILED', 'criticality is low, medium or high'],
      [{ ...valid, status: 'retired' }, 'VALIDATION_FAILED', 'status is active or inactive'],
      [{ ...valid, tags: ['has space'] }, 'VALIDATION_FAILED', 'A tag is letters'],
      [{ ...valid, tags: ['a,b'] }, 'VALIDATION_FAILED', 'A tag is letters'],
      [{ ...valid, tags: Array.from({ length: 51 }, (_, i) => `t${i}`) }, 'VALIDATION_FAILED', 'At most 50 tags'],
      [{ ...valid, name: '  ' }, 'VALIDATION_FAILED', 'A device needs a name'],
      [{ ...valid, name: 'x'.repeat(201) }, 'VALIDATION_FAILED'],
      [{ ...valid, description: 'x'.repeat(2001) }, 'VALIDATION_FAILED'],
      [{ name: 'no-address', port: 22, protocol: 'ssh' }, 'VALIDATION_FAILED'],
    ];
    for (const [payload, code, message] of cases) {
      const res = await call('POST', '/devices', admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code, JSON.stringify(payload)).toBe(code);
      if (message) expect(res.json().error.message).toContain(message);
    }
    for (const [patch, code] of [[{}, 'VALIDATION_FAILED'], [{ name: null }, 'VALIDATION_FAILED'], [{ port: 2222, protocols: [{ protocol: 'ssh', port: 22 }] }, 'PROTOCOL_PORT_MISMATCH'], [{ id: 'x' }, 'VALIDATION_FAILED']] as const) {
      const res = await call('PATCH', `/devices/${target.id}`, admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    expect(await counts()).toEqual(before);
  });

  it("another tenant's ids and junk ids answer 404 DEVICE_NOT_FOUND on every :id route, changing nothing", async () => {
    const mine = await create({ name: 'private-box', address: '10.3.3.3', port: 22, protocol: 'ssh' });
    const before = await counts();
    for (const id of [mine.id, 'not-an-id', '00000000-0000-7000-8000-000000000000']) {
      for (const [method, payload] of [['GET'], ['PATCH', { name: 'hijacked' }], ['PUT', { name: 'hijacked', address: '10.0.0.9', port: 22, protocol: 'ssh' }], ['DELETE']] as const) {
        const res = await call(method, `/devices/${id}`, other.token, payload);
        expect(res.statusCode, `${method} ${id}`).toBe(404);
        expect(res.json().error.code).toBe('DEVICE_NOT_FOUND');
      }
    }
    expect(await counts()).toEqual(before);
    expect((await call('GET', '/devices?q=private-box', other.token)).json().devices).toEqual([]);
    expect((await call('GET', `/devices/${mine.id}`)).json().device).toEqual(mine);
  });

  it('a user without the permission gets 403 on every route; an auditor reads but cannot write; nothing is written', async () => {
    const target = await create({ name: 'guarded', address: '10.4.4.4', port: 22, protocol: 'ssh' });
    const plain = await activeUser(t, admin, 'dev-plain');
    const auditor = await activeUser(t, admin, 'dev-auditor', ['auditor']);
    const vaultAdmin = await activeUser(t, admin, 'dev-vault-admin', ['vault-admin']);
    const securityAdmin = await activeUser(t, admin, 'dev-security-admin', ['security-admin']);
    const before = await counts();
    const writes = [
      ['POST', '/devices', { name: 'sneaky', address: '10.0.0.1', port: 22, protocol: 'ssh' }],
      ['PATCH', `/devices/${target.id}`, { name: 'hijacked' }],
      ['PUT', `/devices/${target.id}`, { name: 'hijacked', address: '10.0.0.1', port: 22, protocol: 'ssh' }],
      ['DELETE', `/devices/${target.id}`],
    ] as const;
    const reads = [['GET', '/devices'], ['GET', `/devices/${target.id}`]] as const;
    for (const caller of [plain, securityAdmin]) {
      for (const [method, url, payload] of [...reads, ...writes]) {
        const res = await call(method, url, caller.token, payload);
        expect(res.statusCode, `${caller.username} ${method} ${url}`).toBe(403);
        expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining(method === 'GET' ? 'vault.devices.read' : 'vault.devices.write') });
      }
    }
    for (const [method, url] of reads) expect((await call(method, url, auditor.token)).statusCode).toBe(200);
    for (const [method, url, payload] of writes) expect((await call(method, url, auditor.token, payload)).statusCode).toBe(403);
    expect(await counts()).toEqual(before);
    const made = await create({ name: 'by-vault-admin', address: '10.0.0.5', port: 22, protocol: 'ssh' }, vaultAdmin.token);
    expect((await call('DELETE', `/devices/${made.id}`, vaultAdmin.token)).statusCode).toBe(204);
  });

  it('DELETE removes the device, its protocols and tags; a device holding credentials is refused with 409 DEVICE_HAS_CREDENTIALS', async () => {
    const device = await create({ name: 'short-lived', address: '10.5.5.5', port: 22, protocol: 'ssh', protocols: [{ protocol: 'https', port: 443 }], tags: ['temp'] });
    const credential = (await call('POST', '/credentials', admin.token, { deviceId: device.id, username: 'root', type: 'password' })).json().credential;
    const before = await counts();
    const refused = await call('DELETE', `/devices/${device.id}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'DEVICE_HAS_CREDENTIALS', message: expect.stringContaining(`/api/v1/credentials?deviceId=${device.id}`) });
    expect(await counts()).toEqual(before);
    expect((await call('DELETE', `/credentials/${credential.id}`)).statusCode).toBe(204);
    const res = await call('DELETE', `/devices/${device.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call('GET', `/devices/${device.id}`)).json().error.code).toBe('DEVICE_NOT_FOUND');
    const left = await counts();
    expect([left.devices, left.protocols, left.tags]).toEqual([before.devices - 1, before.protocols - 2, before.tags - 1]);
  });

  it('every change writes its vault audit event: created, updated with the changed fields, deleted', async () => {
    const device = await create({ name: 'audited', address: '10.6.6.6', port: 22, protocol: 'ssh' });
    await call('PATCH', `/devices/${device.id}`, admin.token, { site: 'porto', tags: ['x'], address: '10.6.6.6' });
    await call('DELETE', `/devices/${device.id}`);
    const self = (await call('GET', '/auth/me')).json().user.id;
    const mine = (await events()).filter((e) => e.target_id === device.id);
    expect(mine.map((e) => [e.action, e.type_id, e.category, JSON.parse(e.details), e.actor_id])).toEqual([
      ['device.created', 5001, 'vault', { name: 'audited', address: '10.6.6.6', protocol: 'ssh', port: 22 }, self],
      ['device.updated', 5002, 'vault', { name: 'audited', fields: ['site', 'tags'] }, self],
      ['device.deleted', 5003, 'vault', { name: 'audited', address: '10.6.6.6' }, self],
    ]);
    expect(await t.runtime.audit.verify(db(), admin.id)).toMatchObject({ ok: true });
  });

  it('the routes are documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/api/v1/devices'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/devices/{id}'])).toEqual(expect.arrayContaining(['get', 'put', 'patch', 'delete']));
    expect(doc.paths['/api/v1/devices'].post.requestBody.content['application/json'].schema.required).toEqual(['name', 'address', 'port', 'protocol']);
  });
});
