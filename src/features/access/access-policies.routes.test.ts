import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('access policies on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let bob: Awaited<ReturnType<typeof activeUser>>;
  let dbas: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('access-a');
    other = await t.tenantWithAdmin('access-b');
    alice = await activeUser(t, admin, 'alice');
    bob = await activeUser(t, admin, 'bob');
    const group = await call('POST', '/groups', admin.token, { name: 'DBAs', members: [alice.id, bob.id] });
    expect(group.statusCode, group.body).toBe(201);
    dbas = group.json().group.id;
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  async function create(body: object, by: { token: string } = admin) {
    const res = await call('POST', '/access-policies', by.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().accessPolicy;
  }
  const allow = { reveal: { mode: 'allow' } };
  const counts = async (tenantId = admin.id) => ({
    policies: Number((await db().selectFrom('access_policies').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n),
    subjects: Number((await db().selectFrom('access_policy_subjects').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n),
    events: (await auditEvents(tenantId)).length,
  });
  const auditEvents = (tenantId = admin.id) =>
    db().selectFrom('audit_events').select(['action', 'target_id', 'details', 'actor_id', 'category', 'type_id']).where('tenant_id', '=', tenantId).where('action', 'like', 'access_policy.%').orderBy('seq').execute();

  it("the issue's example body works verbatim and reads back the same", async () => {
    const body = JSON.parse(`{"name":"prod with approval","members":{"users":["${alice.id}"],"groups":[]},"filters":{"credentialTags":["prod"]},"actions":{"reveal":{"mode":"approval","levels":[{"approvers":{"users":["${bob.id}"]},"required":1}],"approvalValidMinutes":60}}}`);
    const policy = await create(body);
    expect(policy).toMatchObject({
      name: 'prod with approval', description: null, enabled: true, members: { users: [alice.id], groups: [] }, filters: { credentialTags: ['prod'] },
      actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [bob.id], groups: [] }, required: 1 }], approvalValidMinutes: 60, emergencyAllowed: false } },
    });
    expect(Object.keys(policy.actions)).toEqual(['reveal']);
    expect((await call('GET', `/access-policies/${policy.id}`, admin.token)).json()).toEqual({ accessPolicy: policy });
  });

  it('stores every field: filters with wildcards and the mask, three actions, a time restriction normalised (zone name, weekday order, repeats dropped)', async () => {
    const policy = await create({
      name: 'Everything', description: 'All the fields', enabled: false,
      members: { users: [bob.id, bob.id], groups: [dbas] },
      filters: { deviceNames: ['db-*', 'web-??'], deviceSites: ['Paris'], deviceTypes: ['linux'], deviceTags: ['prod', 'prod'], credentialUsernames: ['{user.username}', 'adm_*'], credentialTags: ['pci'], credentialTypes: ['ssh-key'] },
      actions: {
        reveal: { mode: 'justification', timeRestriction: { timeZone: 'utc', weekdays: ['fri', 'mon', 'mon'], hours: { from: '22:00', to: '06:00' } }, emergencyAllowed: true },
        session: { mode: 'approval', levels: [{ approvers: { groups: [dbas] }, required: 2 }, { approvers: { users: [alice.id] }, required: 1 }] },
        history: { mode: 'allow' },
      },
    });
    expect(policy).toMatchObject({
      enabled: false, members: { users: [bob.id], groups: [dbas] },
      filters: { deviceNames: ['db-*', 'web-??'], deviceTags: ['prod'], credentialUsernames: ['{user.username}', 'adm_*'] },
      actions: {
        reveal: { mode: 'justification', timeRestriction: { timeZone: 'UTC', weekdays: ['mon', 'fri'], hours: { from: '22:00', to: '06:00' } }, emergencyAllowed: true },
        session: { mode: 'approval', levels: [{ approvers: { users: [], groups: [dbas] }, required: 2 }, { approvers: { users: [alice.id], groups: [] }, required: 1 }], approvalValidMinutes: 60, emergencyAllowed: false },
        history: { mode: 'allow', emergencyAllowed: false },
      },
    });
    expect((await call('GET', `/access-policies/${policy.id}`, admin.token)).json().accessPolicy).toEqual(policy);
  });

  it('lists in creation order with a cursor, filtered by direct member user or group, name fragment and enabled', async () => {
    const tenant = await t.tenantWithAdmin('access-list');
    const carol = await activeUser(t, tenant, 'carol');
    const group = (await call('POST', '/groups', tenant.token, { name: 'Ops', members: [carol.id] })).json().group.id;
    const made = [];
    for (let i = 0; i < 5; i += 1) made.push(await create({ name: `Policy ${i}`, enabled: i !== 4, members: i % 2 ? { groups: [group] } : { users: [carol.id] }, actions: allow }, tenant));
    const page = async (query: string) => (await call('GET', `/access-policies?${query}`, tenant.token)).json();
    const first = await page('limit=2');
    expect(first.accessPolicies.map((p: { name: string }) => p.name)).toEqual(['Policy 0', 'Policy 1']);
    const second = await page(`limit=2&cursor=${first.nextCursor}`);
    expect(second.accessPolicies.map((p: { name: string }) => p.name)).toEqual(['Policy 2', 'Policy 3']);
    expect((await page(`limit=2&cursor=${second.nextCursor}`))).toMatchObject({ accessPolicies: [{ name: 'Policy 4' }], nextCursor: null });
    const names = async (query: string) => (await page(query)).accessPolicies.map((p: { name: string }) => p.name);
    expect(await names(`userId=${carol.id}`)).toEqual(['Policy 0', 'Policy 2', 'Policy 4']);
    expect(await names(`groupId=${group}`)).toEqual(['Policy 1', 'Policy 3']);
    expect(await names(`userId=${carol.id}&enabled=true`)).toEqual(['Policy 0', 'Policy 2']);
    expect(await names('q=policy 3')).toEqual(['Policy 3']);
    expect(await names('enabled=false')).toEqual(['Policy 4']);
    expect(await names(`userId=${alice.id}`)).toEqual([]);
    for (const query of ['limit=0', 'limit=101', 'enabled=yes', 'unknown=1', 'q=']) {
      const res = await call('GET', `/access-policies?${query}`, tenant.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect(made).toHaveLength(5);
  });

  it('PATCH changes the fields sent (members, filters, actions replace); a no-op writes nothing; a taken name is 409', async () => {
    const policy = await create({ name: 'Patch me', members: { users: [alice.id] }, filters: { deviceSites: ['Paris'] }, actions: allow });
    t.clock.advance(1000);
    const res = await call('PATCH', `/access-policies/${policy.id}`, admin.token, { enabled: false, members: { groups: [dbas] }, actions: { session: { mode: 'justification' } } });
    expect(res.statusCode, res.body).toBe(200);
    const patched = res.json().accessPolicy;
    expect(patched).toEqual({ ...policy, enabled: false, members: { users: [], groups: [dbas] }, actions: { session: { mode: 'justification', emergencyAllowed: false } }, updatedAt: new Date(Date.parse(policy.updatedAt) + 1000).toISOString() });
    const before = await counts();
    const same = await call('PATCH', `/access-policies/${policy.id}`, admin.token, { name: 'Patch me', filters: { deviceSites: ['Paris'] }, members: { groups: [dbas] } });
    expect(same.json().accessPolicy).toEqual(patched);
    expect(await counts()).toEqual(before);
    const taken = await call('PATCH', `/access-policies/${policy.id}`, admin.token, { name: 'Everything' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.code).toBe('ACCESS_POLICY_EXISTS');
    expect((await call('POST', '/access-policies', admin.token, { name: 'Patch me', members: { users: [alice.id] }, actions: allow })).json().error.code).toBe('ACCESS_POLICY_EXISTS');
    expect(await counts()).toEqual(before);
  });

  it('DELETE answers 204 and removes the policy with its members; it then answers 404', async () => {
    const policy = await create({ name: 'Short lived', members: { users: [alice.id], groups: [dbas] }, actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [bob.id] }, required: 1 }] } } });
    const res = await call('DELETE', `/access-policies/${policy.id}`, admin.token);
    expect(res.statusCode).toBe(204);
    expect((await call('GET', `/access-policies/${policy.id}`, admin.token)).json().error.code).toBe('ACCESS_POLICY_NOT_FOUND');
    expect((await call('DELETE', `/access-policies/${policy.id}`, admin.token)).statusCode).toBe(404);
    expect(await db().selectFrom('access_policy_subjects').selectAll().where('policy_id', '=', policy.id).execute()).toEqual([]);
  });

  it("another tenant's ids answer 404 on every :id route; its users and groups cannot be named (400), and nothing changes", async () => {
    const mine = await create({ name: 'Private', members: { users: [alice.id] }, actions: allow });
    const before = { mine: await counts(), theirs: await counts(other.id) };
    for (const id of [mine.id, 'not-an-id', '00000000-0000-7000-8000-000000000000']) {
      for (const [method, payload] of [['GET'], ['PATCH', { name: 'hijacked' }], ['DELETE']] as const) {
        const res = await call(method, `/access-policies/${id}`, other.token, payload);
        expect(res.statusCode, `${method} ${id}`).toBe(404);
        expect(res.json().error.code).toBe('ACCESS_POLICY_NOT_FOUND');
      }
    }
    expect((await call('GET', '/access-policies', other.token)).json().accessPolicies).toEqual([]);
    for (const [body, code] of [
      [{ members: { users: [alice.id] } }, 'UNKNOWN_USER'],
      [{ members: { groups: [dbas] } }, 'UNKNOWN_GROUP'],
    ] as const) {
      const res = await call('POST', '/access-policies', other.token, { name: 'Borrowed', actions: allow, ...body });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    const otherAdmin = (await call('GET', '/auth/me', other.token)).json().user.id;
    const approverElsewhere = await call('POST', '/access-policies', other.token, { name: 'Borrowed', members: { users: [otherAdmin] }, actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [alice.id] }, required: 1 }] } } });
    expect(approverElsewhere.statusCode).toBe(400);
    expect(approverElsewhere.json().error).toMatchObject({ code: 'UNKNOWN_USER', message: expect.stringContaining('actions.reveal.levels[0].approvers') });
    expect({ mine: await counts(), theirs: await counts(other.id) }).toEqual(before);
    expect((await call('GET', `/access-policies/${mine.id}`, admin.token)).json().accessPolicy).toEqual(mine);
  });

  it('permissions: a plain user gets 403 everywhere; an auditor reads and previews but cannot write; a vault-admin writes', async () => {
    const target = await create({ name: 'Guarded', members: { users: [alice.id] }, actions: allow });
    const plain = await activeUser(t, admin, 'access-plain');
    const auditor = await activeUser(t, admin, 'access-auditor', ['auditor']);
    const vaultAdmin = await activeUser(t, admin, 'access-vault-admin', ['vault-admin']);
    const before = await counts();
    const body = { name: 'Sneaky', members: { users: [plain.id] }, actions: allow };
    const routes = [
      ['GET', '/access-policies'],
      ['POST', '/access-policies', body],
      ['GET', `/access-policies/${target.id}`],
      ['PATCH', `/access-policies/${target.id}`, { enabled: false }],
      ['DELETE', `/access-policies/${target.id}`],
      ['GET', `/access-policies/evaluate?userId=${alice.id}&credentialId=${target.id}&action=reveal`],
    ] as const;
    for (const [method, url, payload] of routes) {
      const res = await call(method, url, plain.token, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining(method === 'GET' ? 'access.policies.read' : 'access.policies.write') });
    }
    expect((await call('GET', '/access-policies', auditor.token)).statusCode).toBe(200);
    expect((await call('GET', `/access-policies/${target.id}`, auditor.token)).statusCode).toBe(200);
    // The preview is allowed; the id is no credential, so it answers 404 rather than 403.
    expect((await call('GET', routes[5][1], auditor.token)).json().error.code).toBe('CREDENTIAL_NOT_FOUND');
    for (const [method, url, payload] of routes.slice(1, 5).filter(([m]) => m !== 'GET')) expect((await call(method, url, auditor.token, payload)).statusCode).toBe(403);
    expect(await counts()).toEqual(before);
    const made = await create({ ...body, name: 'By the vault admin' }, vaultAdmin);
    expect((await call('DELETE', `/access-policies/${made.id}`, vaultAdmin.token)).statusCode).toBe(204);
  });
});
