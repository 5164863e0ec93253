import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

const PASSWORD = 'a user password here';

describe.each(dialects)('focal points on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('focal-a');
    other = await t.tenantWithAdmin('focal-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });

  /** Creates a focal point as the admin (or another caller) and answers it. */
  async function create(body: object, by = admin) {
    const res = await call('POST', '/focal-points', by.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().focalPoint as { id: string; name: string; email: string; phone: string | null; topics: string[]; createdAt: string; updatedAt: string };
  }
  const names = async (url = '/focal-points', by = admin) => (await call('GET', url, by.token)).json().focalPoints.map((f: { name: string }) => f.name);
  const db = () => t.runtime.database.db;
  const rowCount = async (tenantId = admin.id) =>
    Number((await db().selectFrom('focal_points').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  const auditEvents = (tenantId = admin.id) =>
    db().selectFrom('audit_events').select(['action', 'target_id', 'details', 'actor_id']).where('tenant_id', '=', tenantId).where('action', 'like', 'focal_point.%').orderBy('seq').execute();

  /** Creates a user through the API, activates them and logs them in. */
  async function activeUser(username: string, roles?: string[]) {
    const created = await call('POST', '/users', admin.token, { username, email: `${username}@x.example`, ...(roles ? { roles } : {}) });
    expect(created.statusCode, created.body).toBe(201);
    const { user, activation } = created.json();
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: admin.slug, token: activation.token, password: PASSWORD } });
    const session = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: admin.slug, username, password: PASSWORD } });
    return { id: user.id as string, token: session.json().token as string };
  }

  it('creates focal points, normalising phone and topics, and lists them in creation order', async () => {
    const first = await create({ name: '  Ana Souza ', email: 'ana@acme.example', phone: '+55 11-98765 4321', topics: ['maintenance', 'security-incident', 'maintenance'] });
    expect(first).toMatchObject({ name: 'Ana Souza', email: 'ana@acme.example', phone: '+5511987654321', topics: ['security-incident', 'maintenance'] });
    expect(first.createdAt).toBe(first.updatedAt);
    const second = await create({ name: 'Billing desk', email: 'billing@acme.example', topics: ['billing'] });
    expect(second.phone).toBeNull();
    const listed = (await call('GET', '/focal-points', admin.token)).json().focalPoints;
    expect(listed.slice(0, 2)).toEqual([first, second]);
    expect((await call('GET', `/focal-points/${first.id}`, admin.token)).json()).toEqual({ focalPoint: first });
  });

  it('filters the list by topic; an unknown topic is refused', async () => {
    await create({ name: 'Compliance officer', email: 'co@acme.example', topics: ['compliance', 'security-incident'] });
    await create({ name: 'Ops lead', email: 'ops@acme.example', topics: ['technical', 'maintenance'] });
    expect(await names('/focal-points?topic=compliance')).toEqual(['Compliance officer']);
    const incident = await names('/focal-points?topic=security-incident');
    expect(incident).toContain('Compliance officer');
    expect(incident).not.toContain('Ops lead');
    expect(await names('/focal-points?topic=maintenance')).toContain('Ops lead');
    for (const query of ['topic=outage', 'topic=', 'unknown=1']) {
      const res = await call('GET', `/focal-points?${query}`, admin.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('PATCH changes only the fields sent; phone null removes the number; a no-op changes nothing', async () => {
    const point = await create({ name: 'Patch me', email: 'patch@acme.example', phone: '+4420794609', topics: ['technical'] });
    t.clock.advance(1000);
    const renamed = await call('PATCH', `/focal-points/${point.id}`, admin.token, { name: 'Patched', topics: ['compliance', 'technical'] });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().focalPoint).toEqual({ ...point, name: 'Patched', topics: ['compliance', 'technical'], updatedAt: new Date(Date.parse(point.createdAt) + 1000).toISOString() });
    const noPhone = (await call('PATCH', `/focal-points/${point.id}`, admin.token, { phone: null })).json().focalPoint;
    expect(noPhone).toMatchObject({ name: 'Patched', email: 'patch@acme.example', phone: null });
    const eventsBefore = (await auditEvents()).length;
    const same = await call('PATCH', `/focal-points/${point.id}`, admin.token, { name: 'Patched', email: 'patch@acme.example' });
    expect(same.json().focalPoint).toEqual(noPhone);
    expect((await auditEvents()).length).toBe(eventsBefore);
    expect((await call('GET', `/focal-points/${point.id}`, admin.token)).json().focalPoint).toEqual(noPhone);
  });

  it('DELETE removes a focal point with 204; it then answers 404 and leaves the list', async () => {
    const point = await create({ name: 'Short lived', email: 'gone@acme.example', topics: ['billing'] });
    const res = await call('DELETE', `/focal-points/${point.id}`, admin.token);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call('GET', `/focal-points/${point.id}`, admin.token)).json().error.code).toBe('FOCAL_POINT_NOT_FOUND');
    expect((await call('DELETE', `/focal-points/${point.id}`, admin.token)).statusCode).toBe(404);
    expect(await names()).not.toContain('Short lived');
  });

  it("another tenant's ids and junk ids answer 404 FOCAL_POINT_NOT_FOUND on every :id route, changing nothing", async () => {
    const mine = await create({ name: 'Private contact', email: 'private@acme.example', topics: ['security-incident'] });
    for (const id of [mine.id, 'not-an-id', '00000000-0000-7000-8000-000000000000']) {
      for (const [method, payload] of [['GET'], ['PATCH', { name: 'hijacked' }], ['DELETE']] as const) {
        const res = await call(method, `/focal-points/${id}`, other.token, payload);
        expect(res.statusCode, `${method} ${id}`).toBe(404);
        expect(res.json().error.code).toBe('FOCAL_POINT_NOT_FOUND');
      }
    }
    expect(await names('/focal-points', other)).toEqual([]);
    expect((await call('GET', `/focal-points/${mine.id}`, admin.token)).json().focalPoint).toEqual(mine);
    expect(await auditEvents(other.id)).toEqual([]);
  });

  it('a user without the permission gets 403 FORBIDDEN on every route and nothing is written; an auditor reads but cannot write', async () => {
    const target = await create({ name: 'Guarded', email: 'guarded@acme.example', topics: ['compliance'] });
    const plain = await activeUser('focal-plain');
    const auditor = await activeUser('focal-auditor', ['auditor']);
    const before = { rows: await rowCount(), events: (await auditEvents()).length };
    for (const [method, url, payload] of [
      ['GET', '/focal-points'],
      ['POST', '/focal-points', { name: 'Sneaky', email: 's@x.example', topics: ['billing'] }],
      ['GET', `/focal-points/${target.id}`],
      ['PATCH', `/focal-points/${target.id}`, { name: 'hijacked' }],
      ['DELETE', `/focal-points/${target.id}`],
    ] as const) {
      const res = await call(method, url, plain.token, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
      expect(res.json().error.message).toContain(method === 'GET' ? 'settings.focal-points.read' : 'settings.focal-points.write');
    }
    expect((await call('GET', '/focal-points', auditor.token)).statusCode).toBe(200);
    expect((await call('GET', `/focal-points/${target.id}`, auditor.token)).statusCode).toBe(200);
    expect((await call('POST', '/focal-points', auditor.token, { name: 'Nope', email: 'n@x.example', topics: ['billing'] })).statusCode).toBe(403);
    expect((await call('DELETE', `/focal-points/${target.id}`, auditor.token)).statusCode).toBe(403);
    expect({ rows: await rowCount(), events: (await auditEvents()).length }).toEqual(before);
    expect((await call('GET', `/focal-points/${target.id}`, admin.token)).json().focalPoint).toEqual(target);
  });

  it('bad input gets 400 VALIDATION_FAILED with a clear message and writes nothing', async () => {
    const target = await create({ name: 'Validate me', email: 'valid@acme.example', topics: ['technical'] });
    const before = { rows: await rowCount(), events: (await auditEvents()).length };
    const valid = { name: 'Someone', email: 'someone@acme.example', topics: ['billing'] };
    const cases: [object, string?][] = [
      [{ ...valid, role: 'boss' }],
      [{ ...valid, email: 'not-an-email' }, 'email must be an email address'],
      [{ ...valid, phone: '0044 20 7946 0958' }, 'phone must be an international number'],
      [{ ...valid, phone: '+12345' }, 'phone must be an international number'],
      [{ ...valid, phone: '+1234567890123456' }, 'phone must be an international number'],
      [{ ...valid, phone: '+44 (20) 7946' }, 'phone must be an international number'],
      [{ ...valid, topics: ['outage'] }, 'A topic is one of: security-incident, maintenance, compliance, billing, technical'],
      [{ ...valid, topics: [] }, 'Name at least one topic'],
      [{ ...valid, topics: 'billing' }],
      [{ name: 'No topics', email: 'x@acme.example' }],
      [{ ...valid, name: '   ' }],
      [{ ...valid, name: 'x'.repeat(201) }],
      [{ ...valid, name: 42 }],
      [{ ...valid, topics: Array.from({ length: 21 }, () => 'billing') }],
    ];
    for (const [payload, message] of cases) {
      const res = await call('POST', '/focal-points', admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      if (message) expect(res.json().error.message).toContain(message);
    }
    for (const [patch, message] of [
      [{}, 'Send at least one of name, email, phone, topics'],
      [{ topics: [] }, 'Name at least one topic'],
      [{ email: 'nope' }, 'email must be an email address'],
      [{ phone: '12' }, 'phone must be an international number'],
      [{ id: 'x' }, undefined],
      [{ name: null }, undefined],
    ] as const) {
      const res = await call('PATCH', `/focal-points/${target.id}`, admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      if (message) expect(res.json().error.message).toContain(message);
    }
    expect({ rows: await rowCount(), events: (await auditEvents()).length }).toEqual(before);
    expect((await call('GET', `/focal-points/${target.id}`, admin.token)).json().focalPoint).toEqual(target);
  });

  it('every change writes its audit event: created, updated with the changed field names, deleted', async () => {
    const point = await create({ name: 'Audited', email: 'audited@acme.example', phone: '+15551234567', topics: ['security-incident'] });
    await call('PATCH', `/focal-points/${point.id}`, admin.token, { email: 'audited2@acme.example', phone: '+15551234567', topics: ['security-incident', 'billing'] });
    await call('DELETE', `/focal-points/${point.id}`, admin.token);
    const self = (await call('GET', '/auth/me', admin.token)).json().user.id;
    const events = (await auditEvents()).filter((e) => e.target_id === point.id);
    expect(events.map((e) => [e.action, JSON.parse(e.details), e.actor_id])).toEqual([
      ['focal_point.created', { name: 'Audited', topics: ['security-incident'] }, self],
      ['focal_point.updated', { fields: ['email', 'topics'] }, self],
      ['focal_point.deleted', { name: 'Audited' }, self],
    ]);
    expect(await t.runtime.audit.verify(t.runtime.database.db, admin.id)).toMatchObject({ ok: true });
  });

  it('a tenant holds at most 100 focal points: the 101st is refused with 409 FOCAL_POINT_LIMIT, even when creates race', async () => {
    const full = await t.tenantWithAdmin('focal-full');
    const body = (n: number) => ({ name: `Contact ${n}`, email: `c${n}@full.example`, topics: ['technical'] });
    for (let n = 1; n <= 95; n += 1) await create(body(n), full);
    const raced = await Promise.all(Array.from({ length: 10 }, (_, i) => call('POST', '/focal-points', full.token, body(96 + i))));
    expect(raced.map((r) => r.statusCode).sort()).toEqual([...Array(5).fill(201), ...Array(5).fill(409)]);
    expect(raced.find((r) => r.statusCode === 409)!.json().error).toMatchObject({ code: 'FOCAL_POINT_LIMIT', message: expect.stringContaining('at most 100') });
    expect(await rowCount(full.id)).toBe(100);
    expect((await call('POST', '/focal-points', full.token, body(101))).json().error.code).toBe('FOCAL_POINT_LIMIT');
    expect((await auditEvents(full.id)).filter((e) => e.action === 'focal_point.created')).toHaveLength(100);
    expect((await call('GET', '/focal-points', full.token)).json().focalPoints).toHaveLength(100);
    const [first] = (await call('GET', '/focal-points', full.token)).json().focalPoints;
    expect((await call('DELETE', `/focal-points/${first.id}`, full.token)).statusCode).toBe(204);
    await create(body(102), full);
    // The refused creates rolled their audit events back with them: the chain has no gap.
    expect(await t.runtime.audit.verify(t.runtime.database.db, full.id)).toMatchObject({ ok: true });
  });

  it('the routes are documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/api/v1/focal-points'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/focal-points/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(doc.paths['/api/v1/focal-points'].post.requestBody.content['application/json'].schema.required).toEqual(['name', 'email', 'topics']);
  });
});
