import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { tenantOwnedTables } from '../../platform/db/schema.js';
import { ADMIN_PASSWORD, bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

describe.each(dialects)('operator tenant routes on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const ops = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object, token?: string) =>
    t.app.inject({ method, url: `/ops/v1${url}`, headers: bearer(token ?? t.operatorToken), ...(payload ? { payload } : {}) });
  const tenantCount = async () => (await ops('GET', '/tenants')).json().tenants.length as number;
  const rowsOf = async (table: 'users' | 'tenant_keys' | 'audit_events' | 'sessions' | 'activation_tokens', tenantId: string) =>
    (await t.runtime.database.db.selectFrom(table).select('tenant_id').where('tenant_id', '=', tenantId).execute()).length;

  it('refuses the operator plane without a live operator token', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/ops/v1/tenants' })).json().error.code).toBe('UNAUTHENTICATED');
    expect((await ops('GET', '/tenants', undefined, 'cso_forged')).statusCode).toBe(401);
    const admin = await t.tenantWithAdmin('plane-check');
    expect((await ops('GET', '/tenants', undefined, admin.token)).statusCode).toBe(401);
    const extra = await t.runtime.services.operators.createToken({ kind: 'operator', id: 'test', ip: null }, 'short-lived');
    expect((await ops('GET', '/tenants', undefined, extra.token)).statusCode).toBe(200);
    await t.runtime.services.operators.revoke({ kind: 'operator', id: 'test', ip: null }, extra.id);
    expect((await ops('GET', '/tenants', undefined, extra.token)).statusCode).toBe(401);
  });

  it('creates a tenant with its data key and a pending admin holding a 72-hour activation token', async () => {
    const res = await ops('POST', '/tenants', { slug: 'acme-corp', adminEmail: 'Root@Acme.example', name: 'Acme Corp' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.tenant).toMatchObject({ slug: 'acme-corp', name: 'Acme Corp', status: 'active' });
    expect(body.activation.token).toMatch(/^csa_/);
    expect(body.activation.url).toContain('#tenant=acme-corp&token=csa_');
    expect(Date.parse(body.activation.expiresAt) - t.clock.now()).toBe(72 * 3600_000);
    expect(await rowsOf('tenant_keys', body.tenant.id)).toBe(1);
    const user = await t.runtime.database.db.selectFrom('users').selectAll().where('tenant_id', '=', body.tenant.id).executeTakeFirstOrThrow();
    expect(user).toMatchObject({ username: 'root@acme.example', status: 'pending', password_hash: null });
    const stored = await t.runtime.database.db.selectFrom('activation_tokens').select('token_hash').where('tenant_id', '=', body.tenant.id).executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(body.activation.token);
    expect(await t.runtime.audit.verify(t.runtime.database.db, body.tenant.id)).toMatchObject({ ok: true });
  });

  it('refuses bad slugs, bad emails and unknown fields clearly, writing nothing', async () => {
    const before = await tenantCount();
    for (const slug of ['ab', 'Acme', 'a'.repeat(33), 'acme_corp', 'acme corp', '', 'émile']) {
      const res = await ops('POST', '/tenants', { slug, adminEmail: 'a@b.example' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await ops('POST', '/tenants', { slug: 'good-slug', adminEmail: 'not-an-email' })).json().error.message).toContain('adminEmail');
    expect((await ops('POST', '/tenants', { slug: 'good-slug', adminEmail: 'a@b.example', plan: 'gold' })).statusCode).toBe(400);
    expect((await ops('POST', '/tenants', { slug: 12345, adminEmail: 'a@b.example' })).statusCode).toBe(400);
    expect(await tenantCount()).toBe(before);
  });

  it('refuses a duplicate slug with 409 TENANT_EXISTS, also when two creates race', async () => {
    expect((await ops('POST', '/tenants', { slug: 'twice', adminEmail: 'a@b.example' })).statusCode).toBe(201);
    const dup = await ops('POST', '/tenants', { slug: 'twice', adminEmail: 'c@d.example' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('TENANT_EXISTS');
    const race = await Promise.all([1, 2, 3].map(() => ops('POST', '/tenants', { slug: 'racer', adminEmail: 'a@b.example' })));
    expect(race.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
  });

  it('lists tenants and finds one by slug or id; an unknown one answers 404', async () => {
    const created = (await ops('POST', '/tenants', { slug: 'findme', adminEmail: 'a@b.example' })).json().tenant;
    expect((await ops('GET', '/tenants')).json().tenants.map((x: { slug: string }) => x.slug)).toContain('findme');
    expect((await ops('GET', '/tenants/findme')).json().tenant.id).toBe(created.id);
    expect((await ops('GET', `/tenants/${created.id}`)).json().tenant.slug).toBe('findme');
    const missing = await ops('GET', '/tenants/nope-nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('TENANT_NOT_FOUND');
    expect((await ops('POST', '/tenants/nope-nope/suspend')).statusCode).toBe(404);
    expect((await ops('DELETE', '/tenants/nope-nope')).statusCode).toBe(404);
  });

  it('deleting a tenant destroys its keys and every row it owns; the system chain records it', async () => {
    const admin = await t.tenantWithAdmin('doomed');
    expect((await t.app.inject({ method: 'PUT', url: '/api/v1/settings/security', headers: bearer(admin.token), payload: { lockoutThreshold: 3 } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/focal-points', headers: bearer(admin.token), payload: { name: 'SOC', email: 'soc@doomed.example', topics: ['security-incident'] } })).statusCode).toBe(201);
    const res = await ops('DELETE', '/tenants/doomed');
    expect(res.statusCode).toBe(200);
    for (const table of tenantOwnedTables) {
      const left = await t.runtime.database.db.selectFrom(table).select('tenant_id').where('tenant_id', '=', admin.id).execute();
      expect(left, table).toEqual([]);
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(admin.token) })).statusCode).toBe(401);
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'doomed', username: admin.username, password: ADMIN_PASSWORD } });
    expect(login.statusCode).toBe(401);
    const system = await t.runtime.database.db.selectFrom('audit_events').select(['action', 'target_id']).where('tenant_id', '=', SYSTEM_SCOPE).where('action', '=', 'tenant.deleted').orderBy('seq').execute();
    expect(system).toEqual([{ action: 'tenant.deleted', target_id: admin.id }]);
    expect(await t.runtime.audit.verify(t.runtime.database.db, SYSTEM_SCOPE)).toMatchObject({ ok: true });
    expect((await ops('POST', '/tenants', { slug: 'doomed', adminEmail: 'new@b.example' })).statusCode).toBe(201);
  });

  it("reissues a pending admin's activation, voiding the old token, and refuses once the admin is active", async () => {
    const first = (await ops('POST', '/tenants', { slug: 'lost-token', adminEmail: 'a@lost.example' })).json().activation.token;
    const reissued = await ops('POST', '/tenants/lost-token/admin-activation');
    expect(reissued.statusCode).toBe(201);
    const second = reissued.json().activation.token;
    expect(second).not.toBe(first);
    const activate = (token: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'lost-token', token, password: ADMIN_PASSWORD } });
    expect((await activate(first)).json().error.code).toBe('ACTIVATION_TOKEN_INVALID');
    expect((await activate(second)).statusCode).toBe(200);
    const refused = await ops('POST', '/tenants/lost-token/admin-activation');
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('ADMIN_ALREADY_ACTIVE');
    expect((await ops('POST', '/tenants/nope-nope/admin-activation')).statusCode).toBe(404);
  });

  it('every table with a tenant_id column is listed as tenant-owned, so deleting a tenant empties it', async () => {
    const tables = await t.runtime.database.db.introspection.getTables();
    const withTenant = tables.filter((table) => table.columns.some((c) => c.name === 'tenant_id')).map((table) => table.name).sort();
    expect(withTenant).toEqual([...tenantOwnedTables].sort());
  });

  it('suspend and resume are audited in the tenant chain and the system chain', async () => {
    const created = (await ops('POST', '/tenants', { slug: 'audited', adminEmail: 'a@b.example' })).json().tenant;
    await ops('POST', '/tenants/audited/suspend');
    await ops('POST', '/tenants/audited/resume');
    const actions = async (scope: string) =>
      (await t.runtime.database.db.selectFrom('audit_events').select('action').where('tenant_id', '=', scope).where('target_id', '=', created.id).orderBy('seq').execute()).map((r) => r.action);
    expect(await actions(created.id)).toEqual(['tenant.created', 'tenant.suspended', 'tenant.resumed']);
    expect(await actions(SYSTEM_SCOPE)).toEqual(['tenant.created', 'tenant.suspended', 'tenant.resumed']);
  });
});
