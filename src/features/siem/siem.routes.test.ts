import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { makeCertificates, type TestCertificates } from '../../../test/support/rsyslog.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('SIEM destination routes on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let certs: TestCertificates;
  beforeAll(async () => {
    t = await createTestApp(dialect, { targetAllowCidrs: ['127.0.0.0/8'] });
    admin = await t.tenantWithAdmin('siem-a');
    other = await t.tenantWithAdmin('siem-b');
    certs = makeCertificates();
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token = admin.token, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const rowCount = async (tenantId = admin.id) => Number((await db().selectFrom('siem_destinations').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  const siemEvents = (tenantId = admin.id) => db().selectFrom('audit_events').select(['action', 'details', 'target_id']).where('tenant_id', '=', tenantId).where('action', 'like', 'siem.%').orderBy('seq').execute();
  const tcp = (name: string, extra: object = {}) => ({ name, host: '127.0.0.1', port: 6514, transport: 'tcp', format: 'rfc5424', ...extra });

  async function create(body: object, by = admin) {
    const res = await call('POST', '/siem/destinations', by.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { destination: Record<string, unknown> & { id: string }; secret: string | null };
  }

  it('creates a tcp destination with defaults, lists it and reads it back; the change is audited without secrets', async () => {
    const { destination, secret } = await create(tcp('Splunk TCP', { categories: ['auth', 'config', 'auth'], minSeverity: 5 }));
    expect(secret).toBeNull();
    expect(destination).toMatchObject({ name: 'Splunk TCP', transport: 'tcp', format: 'rfc5424', host: '127.0.0.1', port: 6514, url: null, categories: ['auth', 'config'], minSeverity: 5, enabled: true, maxMessageBytes: null, framing: 'octet-counting', tls: null, secretSet: false });
    expect((await call('GET', `/siem/destinations/${destination.id}`)).json()).toEqual({ destination });
    expect((await call('GET', '/siem/destinations')).json().destinations).toContainEqual(destination);
    const events = (await siemEvents()).filter((e) => e.target_id === destination.id);
    expect(events.map((e) => [e.action, JSON.parse(e.details).address])).toEqual([['siem.destination.created', '127.0.0.1:6514']]);
  });

  it('a udp destination gets the RFC 5426 default maximum size of 2048 bytes unless told otherwise', async () => {
    expect((await create({ name: 'udp default', host: 'siem.acme.example', port: 514, transport: 'udp', format: 'cef' })).destination.maxMessageBytes).toBe(2048);
    expect((await create({ name: 'udp big', host: 'siem.acme.example', port: 514, transport: 'udp', format: 'leef', maxMessageBytes: 8192 })).destination.maxMessageBytes).toBe(8192);
  });

  it('a tls destination keeps its pinned CA and client certificate; the client key is sealed and never returned', async () => {
    const { destination } = await create({ name: 'QRadar TLS', host: '127.0.0.1', port: 6514, transport: 'tls', format: 'leef', tls: { caPem: certs.caPem, clientCertPem: certs.clientCertPem, clientKeyPem: certs.clientKeyPem, serverName: 'localhost' } });
    expect(destination.tls).toEqual({ caPem: certs.caPem, clientCertPem: certs.clientCertPem, clientKeySet: true, serverName: 'localhost' });
    const row = await db().selectFrom('siem_destinations').selectAll().where('id', '=', destination.id).executeTakeFirstOrThrow();
    expect(row.tls_client_key_sealed).toMatch(/^v1\./);
    expect(row.tls_client_key_sealed).not.toContain('PRIVATE KEY');
    const everything = JSON.stringify([(await call('GET', `/siem/destinations/${destination.id}`)).json(), (await call('GET', '/siem/destinations')).json(), await siemEvents()]);
    expect(everything).not.toContain('PRIVATE KEY');
  });

  it('an https webhook gets a generated HMAC secret shown once on create; a given secret is kept; neither is returned again', async () => {
    const generated = await create({ name: 'Webhook', transport: 'https', url: 'https://hooks.acme.example/custos?token=url-held-token', format: 'json' });
    expect(generated.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(generated.destination).toMatchObject({ url: 'https://hooks.acme.example/custos?token=url-held-token', host: null, port: null, secretSet: true });
    // The audit event names the origin and path: a token in the query stays out of the log.
    expect(JSON.stringify(await siemEvents())).not.toContain('url-held-token');
    const given = await create({ name: 'Webhook given', transport: 'https', url: 'https://hooks.acme.example/b', format: 'json', secret: 'a shared secret of at least 32 chars!' });
    expect(given.secret).toBe('a shared secret of at least 32 chars!');
    const everything = JSON.stringify([(await call('GET', '/siem/destinations')).json(), await siemEvents()]);
    expect(everything).not.toContain(generated.secret);
    expect(everything).not.toContain('a shared secret of at least 32 chars!');
  });

  it('names are unique per tenant (409) but another tenant may use the same name', async () => {
    await create(tcp('Unique'));
    const again = await call('POST', '/siem/destinations', admin.token, tcp('Unique'));
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('SIEM_DESTINATION_NAME_TAKEN');
    await create(tcp('Unique'), other);
  });

  it('PATCH changes the fields sent and audits their names; renaming onto a taken name is refused; a no-op writes nothing', async () => {
    const { destination } = await create(tcp('Patchable'));
    t.clock.advance(1000);
    const res = await call('PATCH', `/siem/destinations/${destination.id}`, admin.token, { port: 10514, format: 'cef', enabled: false, categories: ['vault'] });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().destination).toMatchObject({ port: 10514, format: 'cef', enabled: false, categories: ['vault'] });
    const events = (await siemEvents()).filter((e) => e.target_id === destination.id && e.action === 'siem.destination.updated');
    expect(JSON.parse(events[0]!.details).fields).toEqual(['format', 'port', 'categories', 'enabled']);
    const before = (await siemEvents()).length;
    expect((await call('PATCH', `/siem/destinations/${destination.id}`, admin.token, { port: 10514 })).statusCode).toBe(200);
    expect((await siemEvents()).length).toBe(before);
    const taken = await call('PATCH', `/siem/destinations/${destination.id}`, admin.token, { name: 'Unique' });
    expect(taken.json().error.code).toBe('SIEM_DESTINATION_NAME_TAKEN');
    const onTcp = await call('PATCH', `/siem/destinations/${destination.id}`, admin.token, { tls: { caPem: certs.caPem } });
    expect(onTcp.statusCode).toBe(400);
  });

  it('DELETE removes a destination and its cursor with 204; it then answers 404', async () => {
    const { destination } = await create(tcp('Short lived'));
    expect((await call('DELETE', `/siem/destinations/${destination.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/siem/destinations/${destination.id}`)).statusCode).toBe(404);
    expect(await db().selectFrom('siem_cursors').selectAll().where('destination_id', '=', destination.id).execute()).toEqual([]);
    expect((await siemEvents()).filter((e) => e.target_id === destination.id).map((e) => e.action)).toEqual(['siem.destination.created', 'siem.destination.deleted']);
  });

  it('status of a new destination starting "now" has no lag beyond its own created event; "beginning" lags by the whole log', async () => {
    const now = (await create(tcp('Starts now'))).destination;
    const status = (await call('GET', `/siem/destinations/${now.id}/status`)).json();
    expect(status).toEqual({ state: 'delivering', lagEvents: 1, lastDeliveredSeq: expect.any(Number), lastDeliveredAt: null, lastError: null, lastErrorAt: null });
    const begin = (await create(tcp('Starts at beginning', { startAt: 'beginning' }))).destination;
    const fromStart = (await call('GET', `/siem/destinations/${begin.id}/status`)).json();
    expect(fromStart.lastDeliveredSeq).toBe(0);
    expect(fromStart.lagEvents).toBeGreaterThan(status.lagEvents + 5);
    const disabled = (await create(tcp('Disabled', { enabled: false }))).destination;
    expect((await call('GET', `/siem/destinations/${disabled.id}/status`)).json().state).toBe('disabled');
  });

  it('test against a receiver that is not there answers delivered false with the error, and is audited as a failure', async () => {
    const { destination } = await create(tcp('Nobody home', { port: 1 }));
    const res = await call('POST', `/siem/destinations/${destination.id}/test`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ delivered: false, confirmed: false, error: expect.stringContaining('ECONNREFUSED') });
    const [event] = (await siemEvents()).filter((e) => e.target_id === destination.id && e.action === 'siem.destination.tested');
    expect(JSON.parse(event!.details)).toMatchObject({ delivered: false });
  });

  it("another tenant's ids and junk ids answer 404 SIEM_DESTINATION_NOT_FOUND on every :id route, changing nothing", async () => {
    const { destination } = await create(tcp('Private'));
    const before = { rows: await rowCount(), events: (await siemEvents(other.id)).length };
    for (const id of [destination.id, 'not-an-id', '00000000-0000-7000-8000-000000000000']) {
      for (const [method, suffix, payload] of [['GET', ''], ['PATCH', '', { name: 'hijacked' }], ['DELETE', ''], ['GET', '/status'], ['POST', '/test']] as const) {
        const res = await call(method, `/siem/destinations/${id}${suffix}`, other.token, payload);
        expect(res.statusCode, `${method} ${id}${suffix}`).toBe(404);
        expect(res.json().error.code).toBe('SIEM_DESTINATION_NOT_FOUND');
      }
    }
    expect({ rows: await rowCount(), events: (await siemEvents(other.id)).length }).toEqual(before);
    expect((await call('GET', `/siem/destinations/${destination.id}`)).json().destination.name).toBe('Private');
  });

  it('a user without the permission gets 403 on every route; an auditor reads but cannot write', async () => {
    const { destination } = await create(tcp('Guarded'));
    const plain = await activeUser(t, admin, 'siem-plain');
    const auditor = await activeUser(t, admin, 'siem-auditor', ['auditor']);
    const before = { rows: await rowCount(), events: (await siemEvents()).length };
    const routes = [
      ['GET', '/siem/destinations', undefined, 'read'],
      ['POST', '/siem/destinations', tcp('Sneaky'), 'write'],
      ['GET', `/siem/destinations/${destination.id}`, undefined, 'read'],
      ['PATCH', `/siem/destinations/${destination.id}`, { name: 'hijacked' }, 'write'],
      ['DELETE', `/siem/destinations/${destination.id}`, undefined, 'write'],
      ['GET', `/siem/destinations/${destination.id}/status`, undefined, 'read'],
      ['POST', `/siem/destinations/${destination.id}/test`, undefined, 'write'],
    ] as const;
    for (const [method, url, payload, kind] of routes) {
      const res = await call(method, url, plain.token, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.message).toContain(`monitoring.siem.${kind}`);
      expect((await call(method, url, auditor.token, payload)).statusCode, `auditor ${method} ${url}`).toBe(kind === 'read' ? 200 : 403);
    }
    expect({ rows: await rowCount(), events: (await siemEvents()).length }).toEqual(before);
  });

  it('bad input answers 400 with a stable code and writes nothing', async () => {
    const before = { rows: await rowCount(), events: (await siemEvents()).length };
    const cases: Array<[object, string, string?]> = [
      [tcp('x', { transport: 'smoke-signal' }), 'VALIDATION_FAILED', 'transport is one of'],
      [tcp('x', { format: 'xml' }), 'VALIDATION_FAILED', 'format is one of'],
      [tcp('x', { port: 0 }), 'VALIDATION_FAILED', 'port'],
      [tcp('x', { port: 65536 }), 'VALIDATION_FAILED', 'port'],
      [tcp('x', { port: '514' }), 'VALIDATION_FAILED'],
      [tcp('x', { host: 'bad host\n' }), 'VALIDATION_FAILED'],
      [tcp('x', { host: undefined }), 'VALIDATION_FAILED', 'needs host'],
      [tcp('x', { transport: 'udp', tls: { caPem: certs.caPem } }), 'VALIDATION_FAILED', 'tls options are for tls'],
      [tcp('x', { tls: { caPem: certs.caPem } }), 'VALIDATION_FAILED', 'tls options are for tls'],
      [tcp('x', { maxMessageBytes: 4096 }), 'VALIDATION_FAILED', 'udp destinations only'],
      [tcp('x', { transport: 'udp', maxMessageBytes: 100 }), 'VALIDATION_FAILED', '480'],
      [tcp('x', { transport: 'tls', tls: { caPem: 'not a pem' } }), 'VALIDATION_FAILED', 'PEM'],
      [tcp('x', { transport: 'tls', tls: { caPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' } }), 'SIEM_BAD_PEM'],
      [tcp('x', { transport: 'tls', tls: { clientCertPem: certs.clientCertPem } }), 'VALIDATION_FAILED', 'needs tls.clientKeyPem'],
      [tcp('x', { transport: 'tls', tls: { clientCertPem: certs.clientCertPem, clientKeyPem: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' } }), 'SIEM_BAD_PEM'],
      [tcp('x', { framing: 'lines' }), 'VALIDATION_FAILED', 'framing is one of'],
      [tcp('x', { transport: 'udp', framing: 'newline' }), 'VALIDATION_FAILED', 'framing is for tcp and tls'],
      [tcp('x', { categories: ['everything'] }), 'VALIDATION_FAILED', 'A category is one of'],
      [tcp('x', { minSeverity: 11 }), 'VALIDATION_FAILED', 'minSeverity'],
      [tcp('x', { startAt: 'yesterday' }), 'VALIDATION_FAILED'],
      [tcp('x', { url: 'https://x.example' }), 'VALIDATION_FAILED', 'url is for https'],
      [tcp('', {}), 'VALIDATION_FAILED'],
      [{ name: 'w', transport: 'https', format: 'json', url: 'http://plain.example/' }, 'VALIDATION_FAILED', 'https://'],
      [{ name: 'w', transport: 'https', format: 'json' }, 'VALIDATION_FAILED', 'needs url'],
      [{ name: 'w', transport: 'https', format: 'json', url: 'https://x.example/', secret: 'short' }, 'VALIDATION_FAILED', '32'],
      [{ ...tcp('x'), extra: 1 }, 'VALIDATION_FAILED'],
    ];
    for (const [payload, code, message] of cases) {
      const res = await call('POST', '/siem/destinations', admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 200)).toBe(400);
      expect(res.json().error.code, JSON.stringify(payload).slice(0, 200)).toBe(code);
      if (message) expect(res.json().error.message).toContain(message);
    }
    const { destination } = await create(tcp('Patch target'));
    const mid = { rows: await rowCount(), events: (await siemEvents()).length };
    for (const patch of [{}, { transport: 'udp' }, { port: -1 }, { maxMessageBytes: 1024 }, { url: 'https://x.example/' }]) {
      const res = await call('PATCH', `/siem/destinations/${destination.id}`, admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect({ rows: await rowCount(), events: (await siemEvents()).length }).toEqual(mid);
    expect(mid.rows).toBe(before.rows + 1);
  });

  it('/metrics carries the SIEM forwarder counters beside the HTTP ones', async () => {
    const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const name of ['custos_siem_events_total', 'custos_siem_rounds_total', 'custos_siem_lag_events', 'custos_siem_destinations_failing', 'custos_http_requests_total']) expect(text).toContain(`# HELP ${name} `);
  });

  it('the routes are documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/api/v1/siem/destinations'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/siem/destinations/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(Object.keys(doc.paths['/api/v1/siem/destinations/{id}/status'])).toEqual(['get']);
  });
});
