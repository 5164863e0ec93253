import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { createAccessPolicyService } from './access-policies.service.js';
import { insertCredential } from './fixtures/inventory.js';

describe.each(dialects)('access policy evaluation on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let bob: Awaited<ReturnType<typeof activeUser>>;
  let carol: Awaited<ReturnType<typeof activeUser>>;
  let dbas: string;
  let dbRoot: string;
  let webAlice: string;
  let webBob: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('eval-a');
    other = await t.tenantWithAdmin('eval-b');
    alice = await activeUser(t, admin, 'alice');
    bob = await activeUser(t, admin, 'bob');
    carol = await activeUser(t, admin, 'carol', ['approver']);
    dbas = (await call('POST', '/groups', admin.token, { name: 'DBAs', members: [bob.id] })).json().group.id;
    const db = t.runtime.database.db;
    dbRoot = (await insertCredential(db, admin.id, { device: { name: 'db-paris-01', site: 'Paris', type: 'linux', tags: ['prod'] }, credential: { username: 'root', tags: ['prod', 'pci'] } })).credentialId;
    webAlice = (await insertCredential(db, admin.id, { device: { name: 'web-01', site: 'Berlin', tags: ['dev'] }, credential: { username: 'Alice', type: 'ssh-key' } })).credentialId;
    webBob = (await insertCredential(db, admin.id, { device: { name: 'web-01' }, credential: { username: 'bob' } })).credentialId;
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  async function create(body: object) {
    const res = await call('POST', '/access-policies', admin.token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().accessPolicy;
  }
  async function evaluate(userId: string, credentialId: string, action = 'reveal', by = admin) {
    const res = await call('GET', `/access-policies/evaluate?userId=${userId}&credentialId=${credentialId}&action=${action}`, by.token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }
  const remove = async (id: string) => expect((await call('DELETE', `/access-policies/${id}`, admin.token)).statusCode).toBe(204);

  it('without a policy nothing is granted and the credential is invisible; the preview shows what it evaluated', async () => {
    const answer = await evaluate(bob.id, dbRoot);
    expect(answer).toMatchObject({
      decision: { granted: false, reason: 'NO_MATCHING_POLICY', visible: false, matchedPolicyIds: [] },
      policies: [],
      subject: { userId: bob.id, username: 'bob', groupIds: [dbas] },
      target: { credentialId: dbRoot, device: { name: 'db-paris-01', site: 'Paris', type: 'linux', tags: ['prod'] }, credential: { username: 'root', type: 'password', tags: ['pci', 'prod'] } },
      evaluatedAt: new Date(t.clock.now()).toISOString(),
    });
  });

  it('a policy granting a group applies to its members only, matched on device name wildcards, site and tags', async () => {
    const policy = await create({ name: 'DBAs on prod databases', members: { groups: [dbas] }, filters: { deviceNames: ['DB-*'], deviceSites: ['paris'], credentialTags: ['prod'] }, actions: { reveal: { mode: 'justification' } } });
    expect(await evaluate(bob.id, dbRoot)).toMatchObject({ decision: { granted: true, mode: 'justification', requirements: { justification: true, approval: null, emergencyAllowed: false }, matchedPolicyIds: [policy.id] }, policies: [{ id: policy.id, name: 'DBAs on prod databases' }] });
    expect((await evaluate(alice.id, dbRoot)).decision).toMatchObject({ granted: false, visible: false });
    expect((await evaluate(bob.id, webBob)).decision).toMatchObject({ granted: false, visible: false });
    expect((await evaluate(bob.id, dbRoot, 'session')).decision).toEqual({ granted: false, reason: 'ACTION_NOT_GRANTED', visible: true, matchedPolicyIds: [] });
    await remove(policy.id);
  });

  it('the {user.username} mask grants each user the credential named like them, case-insensitively, and no other', async () => {
    const policy = await create({ name: 'Own accounts', members: { users: [alice.id, bob.id] }, filters: { deviceNames: ['web-*'], credentialUsernames: ['{user.username}'] }, actions: { session: { mode: 'allow' } } });
    expect((await evaluate(alice.id, webAlice, 'session')).decision).toMatchObject({ granted: true, mode: 'allow' });
    expect((await evaluate(bob.id, webBob, 'session')).decision).toMatchObject({ granted: true, mode: 'allow' });
    expect((await evaluate(alice.id, webBob, 'session')).decision.granted).toBe(false);
    expect((await evaluate(bob.id, webAlice, 'session')).decision.granted).toBe(false);
    await remove(policy.id);
  });

  it('where several policies match the most restrictive wins; disabling one takes effect on the next decision', async () => {
    const easy = await create({ name: 'Easy', members: { users: [bob.id] }, filters: { credentialTypes: ['password'] }, actions: { reveal: { mode: 'allow', emergencyAllowed: true } } });
    const strict = await create({ name: 'Strict', members: { groups: [dbas] }, filters: { deviceTags: ['prod'] }, actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [carol.id] }, required: 1 }], approvalValidMinutes: 30 } } });
    const answer = await evaluate(bob.id, dbRoot);
    expect(answer.decision).toMatchObject({
      granted: true, mode: 'approval', denial: null, matchedPolicyIds: [easy.id, strict.id].sort(),
      requirements: { justification: true, emergencyAllowed: false, approval: { validMinutes: 30, levels: [{ level: 1, constraints: [{ approvers: { users: [carol.id], groups: [] }, required: 1, policyIds: [strict.id] }] }] } },
    });
    expect(answer.policies.map((p: { name: string }) => p.name).sort()).toEqual(['Easy', 'Strict']);
    expect((await call('PATCH', `/access-policies/${strict.id}`, admin.token, { enabled: false })).statusCode).toBe(200);
    expect((await evaluate(bob.id, dbRoot)).decision).toMatchObject({ granted: true, mode: 'allow', requirements: { emergencyAllowed: true }, matchedPolicyIds: [easy.id] });
    await remove(easy.id);
    await remove(strict.id);
  });

  it('outside a time window the decision is denied with ACCESS_OUTSIDE_WINDOW, read in the window\'s time zone', async () => {
    const policy = await create({ name: 'Office hours', members: { users: [alice.id] }, actions: { history: { mode: 'allow', timeRestriction: { timeZone: 'America/Sao_Paulo', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], hours: { from: '08:00', to: '18:00' } } } } });
    // Days away from the fixture's clock every session would have expired: ask the service, then put the clock back.
    const adminActor = { kind: 'user' as const, tenantId: admin.id, id: (await call('GET', '/auth/me', admin.token)).json().user.id, ip: null };
    const at = async (iso: string) => {
      const before = t.clock.now();
      t.clock.set(Date.parse(iso));
      try {
        return (await t.runtime.services.accessPolicies.evaluate(adminActor, { userId: alice.id, credentialId: webAlice, action: 'history' })).decision;
      } finally {
        t.clock.set(before);
      }
    };
    expect(await at('2026-01-05T11:00:00Z')).toMatchObject({ granted: true, denial: null, requirements: { timeWindow: { ok: true, restrictedBy: [policy.id] } } }); // Monday 08:00 in Sao Paulo
    expect(await at('2026-01-05T10:59:00Z')).toMatchObject({ granted: true, denial: 'ACCESS_OUTSIDE_WINDOW', requirements: { timeWindow: { ok: false, outsideOf: [policy.id] } } });
    expect(await at('2026-01-10T15:00:00Z')).toMatchObject({ denial: 'ACCESS_OUTSIDE_WINDOW' }); // Saturday
    await remove(policy.id);
  });

  it("decisionFor answers the caller's own decision; an API client is granted nothing; another service instance's change is seen at once", async () => {
    const services = t.runtime.services;
    const asBob = { kind: 'user' as const, tenantId: admin.id, id: bob.id, ip: null };
    expect(await services.accessPolicies.decisionFor(asBob, dbRoot, 'reveal')).toMatchObject({ granted: false, visible: false });
    // A second service over the same database stands in for another node: its change bumps the tenant's revision.
    const node2 = createAccessPolicyService({ db: t.runtime.database.db, audit: t.runtime.audit, clock: t.clock, changeMarker: t.runtime.database.changeMarker });
    const adminActor = { kind: 'user' as const, tenantId: admin.id, id: (await call('GET', '/auth/me', admin.token)).json().user.id, ip: null };
    const policy = await node2.create(adminActor, { name: 'From node 2', enabled: true, members: { users: [bob.id], groups: [] }, filters: {}, actions: { reveal: { mode: 'allow' } } });
    expect(await services.accessPolicies.decisionFor(asBob, dbRoot, 'reveal')).toMatchObject({ granted: true, mode: 'allow', matchedPolicyIds: [policy.id] });
    await node2.update(adminActor, policy.id, { actions: { reveal: { mode: 'justification' } } });
    expect(await services.accessPolicies.decisionFor(asBob, dbRoot, 'reveal')).toMatchObject({ granted: true, mode: 'justification' });
    expect(await services.accessPolicies.decisionFor({ kind: 'client', tenantId: admin.id, id: bob.id, ip: null }, dbRoot, 'reveal')).toMatchObject({ granted: false });
    await expect(services.accessPolicies.decisionFor(asBob, 'junk', 'reveal')).rejects.toMatchObject({ code: 'CREDENTIAL_NOT_FOUND' });
    await remove(policy.id);
  });

  it('deleting a group or a user removes them from every policy (members and approvers); the group no longer grants', async () => {
    const temp = (await call('POST', '/groups', admin.token, { name: 'Temp', members: [alice.id] })).json().group.id;
    const leaver = await activeUser(t, admin, 'leaver');
    const policy = await create({ name: 'Leavers', members: { users: [leaver.id, bob.id], groups: [temp] }, actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [leaver.id, carol.id], groups: [temp] }, required: 1 }] } } });
    expect((await evaluate(alice.id, dbRoot)).decision.granted).toBe(true);
    expect((await call('DELETE', `/groups/${temp}`, admin.token)).statusCode).toBe(204);
    expect((await call('DELETE', `/users/${leaver.id}`, admin.token)).statusCode).toBe(204);
    const after = (await call('GET', `/access-policies/${policy.id}`, admin.token)).json().accessPolicy;
    expect(after.members).toEqual({ users: [bob.id], groups: [] });
    expect(after.actions.reveal.levels).toEqual([{ approvers: { users: [carol.id], groups: [] }, required: 1 }]);
    expect((await evaluate(alice.id, dbRoot)).decision.granted).toBe(false);
    expect((await call('GET', `/access-policies?groupId=${temp}`, admin.token)).json().accessPolicies).toEqual([]);
    const db = t.runtime.database.db;
    expect(await db.selectFrom('access_policy_subjects').selectAll().where('subject_id', 'in', [temp, leaver.id]).execute()).toEqual([]);
    await remove(policy.id);
  });

  it("bad queries answer 400; unknown and other tenants' users and credentials answer 404", async () => {
    const theirs = (await insertCredential(t.runtime.database.db, other.id, { device: { name: 'db-paris-01' }, credential: { username: 'root' } })).credentialId;
    for (const query of [`userId=${bob.id}&credentialId=${dbRoot}&action=delete`, `userId=${bob.id}&credentialId=${dbRoot}`, `credentialId=${dbRoot}&action=reveal`, `userId=${bob.id}&credentialId=${dbRoot}&action=reveal&x=1`]) {
      const res = await call('GET', `/access-policies/evaluate?${query}`, admin.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    const otherAdmin = (await call('GET', '/auth/me', other.token)).json().user.id;
    for (const [userId, credentialId, code] of [[bob.id, theirs, 'CREDENTIAL_NOT_FOUND'], [bob.id, 'junk', 'CREDENTIAL_NOT_FOUND'], [otherAdmin, dbRoot, 'USER_NOT_FOUND'], ['junk', dbRoot, 'USER_NOT_FOUND']]) {
      const res = await call('GET', `/access-policies/evaluate?userId=${userId}&credentialId=${credentialId}&action=reveal`, admin.token);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe(code);
    }
    expect((await call('GET', `/access-policies/evaluate?userId=${bob.id}&credentialId=${dbRoot}&action=reveal`, other.token)).json().error.code).toBe('USER_NOT_FOUND');
  });
});
