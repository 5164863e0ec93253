import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { SAFE_SYMBOLS } from './password-generator.js';

type Admin = Awaited<ReturnType<TestApp['tenantWithAdmin']>>;

describe.each(dialects)('credential policies on %s', (dialect) => {
  let t: TestApp;
  let admin: Admin;
  let other: Admin;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('cpol-a');
    other = await t.tenantWithAdmin('cpol-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const rowCount = async (tenantId = admin.id) =>
    Number((await db().selectFrom('credential_policies').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
  const auditEvents = (tenantId = admin.id) =>
    db().selectFrom('audit_events').select(['action', 'target_id', 'details', 'actor_id']).where('tenant_id', '=', tenantId).where('action', 'like', 'credential_policy.%').orderBy('seq').execute();
  const snapshot = async (tenantId = admin.id) => ({ rows: await rowCount(tenantId), events: (await auditEvents(tenantId)).length });

  /** Creates a policy as the admin (or another caller) and answers it. */
  async function create(body: object, by: { token: string } = admin) {
    const res = await call('POST', '/credential-policies', by.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().policy;
  }
  const minimal = (name: string, extra: object = {}) => ({ name, filters: {}, rules: { minLength: 16, requireClasses: ['lower', 'digit'] }, ...extra });

  it('creates a policy, filling every rule default, and normalises lists, classes, days and time zones', async () => {
    const policy = await create({
      name: '  Linux root ',
      priority: 50,
      filters: { deviceName: 'srv-*', sites: ['paris', 'Paris', 'lyon'], deviceTypes: ['linux'], deviceTags: ['prod'], credentialTypes: ['password'], usernames: ['root', 'adm?n'], credentialTags: ['break-glass'] },
      rules: { minLength: 24, requireClasses: ['symbol', 'lower', 'upper', 'lower'], rotationWindows: [{ days: ['sun', 'sat', 'sat'], from: '22:00', to: '04:00', timeZone: 'europe/paris' }] },
    });
    expect(policy).toMatchObject({
      name: 'Linux root',
      priority: 50,
      filters: { deviceName: 'srv-*', sites: ['paris', 'lyon'], deviceTypes: ['linux'], deviceTags: ['prod'], credentialTypes: ['password'], usernames: ['root', 'adm?n'], credentialTags: ['break-glass'] },
      rules: { minLength: 24, maxLength: null, requireClasses: ['lower', 'upper', 'symbol'], allowedSymbols: SAFE_SYMBOLS, maxAgeDays: 0, rotateAfterReveal: false, rotateAfterCheckin: false, rotationWindows: [{ days: ['sat', 'sun'], from: '22:00', to: '04:00', timeZone: 'Europe/Paris' }] },
    });
    expect(policy.createdAt).toBe(policy.updatedAt);
    expect((await call('GET', `/credential-policies/${policy.id}`, admin.token)).json()).toEqual({ policy });
  });

  it('lists policies in evaluation order: highest priority first, then the oldest', async () => {
    const tenant = await t.tenantWithAdmin('cpol-order');
    const low = await create(minimal('low', { priority: 1 }), tenant);
    t.clock.advance(10);
    const highOld = await create(minimal('high old', { priority: 9 }), tenant);
    t.clock.advance(10);
    const highNew = await create(minimal('high new', { priority: 9 }), tenant);
    const zero = await create(minimal('no priority'), tenant);
    expect(zero.priority).toBe(0);
    const listed = (await call('GET', '/credential-policies', tenant.token)).json().policies;
    expect(listed.map((p: { id: string }) => p.id)).toEqual([highOld.id, highNew.id, low.id, zero.id]);
  });

  it('PATCH changes only what is sent; filters and rules are replaced whole; a no-op writes nothing', async () => {
    const policy = await create(minimal('Patch me', { filters: { sites: ['paris'], deviceTypes: ['linux'] } }));
    t.clock.advance(1000);
    const res = await call('PATCH', `/credential-policies/${policy.id}`, admin.token, { priority: 7, filters: { deviceTypes: ['windows'] }, rules: { minLength: 30, requireClasses: [], maxAgeDays: 90 } });
    expect(res.statusCode, res.body).toBe(200);
    const patched = res.json().policy;
    expect(patched).toEqual({ ...policy, priority: 7, filters: { deviceTypes: ['windows'] }, rules: { ...policy.rules, minLength: 30, requireClasses: [], maxAgeDays: 90 }, updatedAt: new Date(Date.parse(policy.createdAt) + 1000).toISOString() });
    const before = await snapshot();
    const same = await call('PATCH', `/credential-policies/${policy.id}`, admin.token, { name: 'Patch me', priority: 7, filters: { deviceTypes: ['windows'] } });
    expect(same.json().policy).toEqual(patched);
    expect(await snapshot()).toEqual(before);
  });

  it('a name is unique in a tenant (409 CREDENTIAL_POLICY_NAME_TAKEN) but may repeat across tenants', async () => {
    const first = await create(minimal('Unique name'));
    const second = await create(minimal('Second name'));
    const before = await snapshot();
    const dup = await call('POST', '/credential-policies', admin.token, minimal('Unique name'));
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({ code: 'CREDENTIAL_POLICY_NAME_TAKEN', message: expect.stringContaining('Unique name') });
    const rename = await call('PATCH', `/credential-policies/${second.id}`, admin.token, { name: 'Unique name' });
    expect(rename.json().error.code).toBe('CREDENTIAL_POLICY_NAME_TAKEN');
    expect(await snapshot()).toEqual(before);
    expect((await call('PATCH', `/credential-policies/${first.id}`, admin.token, { name: 'Unique name', priority: 3 })).statusCode).toBe(200);
    await create(minimal('Unique name'), other);
  });

  it('DELETE removes a policy with 204; it then answers 404 and leaves the list', async () => {
    const policy = await create(minimal('Short lived'));
    const res = await call('DELETE', `/credential-policies/${policy.id}`, admin.token);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call('GET', `/credential-policies/${policy.id}`, admin.token)).json().error.code).toBe('CREDENTIAL_POLICY_NOT_FOUND');
    expect((await call('DELETE', `/credential-policies/${policy.id}`, admin.token)).statusCode).toBe(404);
    expect((await call('GET', '/credential-policies', admin.token)).json().policies.map((p: { name: string }) => p.name)).not.toContain('Short lived');
  });

  it("another tenant's ids and junk ids answer 404 CREDENTIAL_POLICY_NOT_FOUND on every :id route, changing nothing", async () => {
    const mine = await create(minimal('Private policy'));
    const before = await snapshot();
    for (const id of [mine.id, 'not-an-id', '00000000-0000-7000-8000-000000000000']) {
      for (const [method, payload] of [['GET'], ['PATCH', { priority: 99 }], ['DELETE']] as const) {
        const res = await call(method, `/credential-policies/${id}`, other.token, payload);
        expect(res.statusCode, `${method} ${id}`).toBe(404);
        expect(res.json().error.code).toBe('CREDENTIAL_POLICY_NOT_FOUND');
      }
    }
    expect((await call('GET', '/credential-policies', other.token)).json().policies.map((p: { id: string }) => p.id)).not.toContain(mine.id);
    expect((await call('GET', `/credential-policies/${mine.id}`, admin.token)).json().policy).toEqual(mine);
    expect(await snapshot()).toEqual(before);
  });

  it('without the permission every route answers 403 FORBIDDEN and writes nothing; an auditor reads, a vault-admin writes', async () => {
    const target = await create(minimal('Guarded'));
    const plain = await activeUser(t, admin, 'cpol-plain');
    const auditor = await activeUser(t, admin, 'cpol-auditor', ['auditor']);
    const vaultAdmin = await activeUser(t, admin, 'cpol-vault', ['vault-admin']);
    const before = await snapshot();
    for (const [method, url, payload, permission] of [
      ['GET', '/credential-policies', undefined, 'vault.credential-policies.read'],
      ['GET', '/credential-policies/match?credentialType=password', undefined, 'vault.credential-policies.read'],
      ['POST', '/credential-policies', minimal('Sneaky'), 'vault.credential-policies.write'],
      ['GET', `/credential-policies/${target.id}`, undefined, 'vault.credential-policies.read'],
      ['PATCH', `/credential-policies/${target.id}`, { priority: 1 }, 'vault.credential-policies.write'],
      ['DELETE', `/credential-policies/${target.id}`, undefined, 'vault.credential-policies.write'],
      ['POST', '/credential-policies/generate', { deviceId: target.id, credentialType: 'password' }, 'vault.credentials.write'],
    ] as const) {
      const res = await call(method, url, plain.token, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining(permission) });
    }
    expect((await call('GET', '/credential-policies', auditor.token)).statusCode).toBe(200);
    expect((await call('GET', `/credential-policies/${target.id}`, auditor.token)).statusCode).toBe(200);
    expect((await call('GET', '/credential-policies/match?credentialType=password', auditor.token)).statusCode).toBe(200);
    expect((await call('POST', '/credential-policies', auditor.token, minimal('Nope'))).statusCode).toBe(403);
    expect((await call('PATCH', `/credential-policies/${target.id}`, auditor.token, { priority: 1 })).statusCode).toBe(403);
    expect((await call('POST', '/credential-policies/generate', auditor.token, { deviceId: target.id, credentialType: 'password' })).statusCode).toBe(403);
    expect(await snapshot()).toEqual(before);
    const made = await create(minimal('By the vault admin'), vaultAdmin);
    expect((await call('DELETE', `/credential-policies/${made.id}`, vaultAdmin.token)).statusCode).toBe(204);
  });

  it('bad input answers 400 VALIDATION_FAILED with a message that says what to fix, and writes nothing', async () => {
    const target = await create(minimal('Validate me'));
    const before = await snapshot();
    const rules = { minLength: 16, requireClasses: ['lower'] };
    const window = { days: ['mon'], from: '01:00', to: '03:00', timeZone: 'UTC' };
    const withRules = (extra: object) => ({ name: 'Bad', filters: {}, rules: { ...rules, ...extra } });
    const withFilters = (filters: object) => ({ name: 'Bad', filters, rules });
    const cases: [object, string?][] = [
      [{ name: 'Bad', filters: {}, rules, extra: 1 }],
      [{ name: 'Bad', rules }, 'filters is required: send {} to match every credential'],
      [{ name: 'Bad', filters: {} }, 'rules is required'],
      [{ name: '   ', filters: {}, rules }, 'name must not be empty'],
      [{ name: 'x'.repeat(201), filters: {}, rules }, 'name is at most 200 characters'],
      [{ name: 'Bad', priority: -1, filters: {}, rules }, 'priority is 0 to 10000'],
      [{ name: 'Bad', priority: 1.5, filters: {}, rules }],
      [{ name: 'Bad', priority: '5', filters: {}, rules }],
      [withFilters({ hostname: 'x' })],
      [withFilters({ sites: [] }), 'sites: list at least one value, or leave the filter out to match any'],
      [withFilters({ credentialTypes: ['certificate'] }), 'credentialTypes: each is one of password, ssh-key, api-key'],
      [withFilters({ deviceName: '' })],
      [withFilters({ usernames: ['root', ''] })],
      [withFilters({ deviceTags: Array.from({ length: 51 }, (_, i) => `t${i}`) }), 'deviceTags: at most 50 values'],
      [withRules({ minLength: 7 }), 'minLength is 8 to 256 characters'],
      [withRules({ minLength: 257 }), 'minLength is 8 to 256 characters'],
      [{ name: 'Bad', filters: {}, rules: { requireClasses: [] } }, 'minLength is required'],
      [withRules({ maxLength: 12 }), 'maxLength must be at least minLength'],
      [withRules({ maxLength: 1025 }), 'maxLength is 8 to 1024 characters'],
      [{ name: 'Bad', filters: {}, rules: { minLength: 16 } }, 'requireClasses is required'],
      [withRules({ requireClasses: ['numbers'] }), 'requireClasses: each is one of lower, upper, digit, symbol'],
      [withRules({ allowedSymbols: '!a' }), 'allowedSymbols may list only printable ASCII symbols'],
      [withRules({ allowedSymbols: '! ' }), 'allowedSymbols may list only printable ASCII symbols'],
      [withRules({ allowedSymbols: '!é' }), 'allowedSymbols may list only printable ASCII symbols'],
      [withRules({ requireClasses: ['symbol'], allowedSymbols: '' }), 'requireClasses has symbol but allowedSymbols is empty'],
      [withRules({ maxAgeDays: -1 }), 'maxAgeDays is 0 (no maximum age) to 3650 days'],
      [withRules({ maxAgeDays: 3651 }), 'maxAgeDays is 0 (no maximum age) to 3650 days'],
      [withRules({ rotateAfterReveal: 'yes' })],
      [withRules({ rotationWindows: [{ ...window, timeZone: 'Mars/Olympus' }] }), 'timeZone must be an IANA time zone name'],
      [withRules({ rotationWindows: [{ ...window, timeZone: '+01:00' }] }), 'timeZone must be an IANA time zone name'],
      [withRules({ rotationWindows: [{ ...window, from: '25:00' }] }), 'from is a time HH:MM from 00:00 to 23:59'],
      [withRules({ rotationWindows: [{ ...window, from: '24:00', to: '01:00' }] }), 'from is a time HH:MM from 00:00 to 23:59'],
      [withRules({ rotationWindows: [{ ...window, to: '24:01' }] }), 'to is a time HH:MM from 00:00 to 24:00'],
      [withRules({ rotationWindows: [{ ...window, to: '1:00' }] }), 'to is a time HH:MM'],
      [withRules({ rotationWindows: [{ ...window, to: '01:00' }] }), 'from and to are the same time; for a whole day use from 00:00 to 24:00'],
      [withRules({ rotationWindows: [{ ...window, days: [] }] }), 'days: list at least one day'],
      [withRules({ rotationWindows: [{ ...window, days: ['monday'] }] }), 'days: each is one of mon, tue, wed, thu, fri, sat, sun'],
      [withRules({ rotationWindows: [{ ...window, zone: 'UTC' }] })],
      [withRules({ rotationWindows: Array.from({ length: 21 }, () => window) }), 'rotationWindows: at most 20 windows'],
    ];
    for (const [payload, message] of cases) {
      const res = await call('POST', '/credential-policies', admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
      if (message) expect(res.json().error.message, JSON.stringify(payload)).toContain(message);
    }
    for (const [patch, message] of [[{}, 'Send at least one of name, priority, filters, rules'], [{ rules: { minLength: 4, requireClasses: [] } }, 'minLength is 8 to 256'], [{ id: 'x' }], [{ filters: null }]] as const) {
      const res = await call('PATCH', `/credential-policies/${target.id}`, admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      if (message) expect(res.json().error.message).toContain(message);
    }
    for (const query of ['credentialId=x&site=paris', 'credentialType=certificate', 'colour=blue', 'deviceName=']) {
      expect((await call('GET', `/credential-policies/match?${query}`, admin.token)).statusCode, query).toBe(400);
    }
    for (const body of [{}, { deviceId: target.id }, { credentialType: 'password' }, { credentialId: target.id, deviceId: target.id }, { deviceId: target.id, credentialType: 'token' }, { deviceId: target.id, credentialType: 'password', length: 40 }]) {
      const res = await call('POST', '/credential-policies/generate', admin.token, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect(await snapshot()).toEqual(before);
    expect((await call('GET', `/credential-policies/${target.id}`, admin.token)).json().policy).toEqual(target);
  });

  it('every change writes its audit event: created with filters and rules, updated with the changed fields, deleted', async () => {
    const policy = await create({ name: 'Audited', priority: 4, filters: { sites: ['paris'] }, rules: { minLength: 12, requireClasses: ['digit'] } });
    await call('PATCH', `/credential-policies/${policy.id}`, admin.token, { priority: 5, rules: { minLength: 14, requireClasses: ['digit'] } });
    await call('DELETE', `/credential-policies/${policy.id}`, admin.token);
    const self = (await call('GET', '/auth/me', admin.token)).json().user.id;
    const events = (await auditEvents()).filter((e) => e.target_id === policy.id).map((e) => [e.action, JSON.parse(e.details), e.actor_id]);
    const rules = (minLength: number) => JSON.stringify({ minLength, maxLength: null, requireClasses: ['digit'], allowedSymbols: SAFE_SYMBOLS, maxAgeDays: 0, rotateAfterReveal: false, rotateAfterCheckin: false, rotationWindows: [] });
    expect(events).toEqual([
      ['credential_policy.created', { name: 'Audited', priority: 4, filters: JSON.stringify({ sites: ['paris'] }), rules: rules(12) }, self],
      ['credential_policy.updated', { fields: ['priority', 'rules'], priority: 5, rules: rules(14) }, self],
      ['credential_policy.deleted', { name: 'Audited' }, self],
    ]);
    expect(await t.runtime.audit.verify(db(), admin.id)).toMatchObject({ ok: true });
  });

  it('a tenant holds at most 200 policies: the 201st is refused with 409 CREDENTIAL_POLICY_LIMIT', async () => {
    const full = await t.tenantWithAdmin('cpol-full');
    const now = t.clock.now();
    // Filling through the store directly: 200 API calls would only slow the test down.
    await db().insertInto('credential_policies').values(Array.from({ length: 199 }, (_, i) => ({ tenant_id: full.id, id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`, name: `p${i}`, priority: 0, filters: '{}', rules: '{"minLength":12,"requireClasses":[]}', created_at: now, updated_at: now }))).execute();
    await create(minimal('the 200th'), full);
    const res = await call('POST', '/credential-policies', full.token, minimal('one too many'));
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'CREDENTIAL_POLICY_LIMIT', message: expect.stringContaining('at most 200') });
    expect(await rowCount(full.id)).toBe(200);
    expect(await t.runtime.audit.verify(db(), full.id)).toMatchObject({ ok: true });
  });

  it('the routes are documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/api/v1/credential-policies'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/credential-policies/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(Object.keys(doc.paths['/api/v1/credential-policies/match'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/v1/credential-policies/generate'])).toEqual(['post']);
    expect(doc.paths['/api/v1/credential-policies'].post.requestBody.content['application/json'].schema.required).toEqual(['name', 'filters', 'rules']);
  });
});
