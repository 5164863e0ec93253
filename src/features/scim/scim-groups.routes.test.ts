import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { auditEvents, createScimToken, scim, sessionOf, userBody } from './fixtures/support.js';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(dialects)('SCIM groups on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let token: string;
  let otherToken: string;
  let alice: { id: string };
  let bob: { id: string };
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('scim-groups-a');
    token = await createScimToken(t, admin);
    otherToken = await createScimToken(t, await t.tenantWithAdmin('scim-groups-b'));
    alice = (await scim(t, token, 'POST', '/Users', { body: userBody('alice@acme.example', { name: { givenName: 'Alice', familyName: 'A' } }) })).json();
    bob = (await scim(t, token, 'POST', '/Users', { body: userBody('bob@acme.example') })).json();
  });
  afterAll(async () => t.close());

  async function createGroup(displayName: string, members: string[] = [], by = token) {
    const res = await scim(t, by, 'POST', '/Groups', { body: { schemas: [GROUP], displayName, externalId: `ext-${displayName}`, members: members.map((value) => ({ value })) } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const patch = (id: string, operations: unknown[]) => scim(t, token, 'PATCH', `/Groups/${id}`, { body: { schemas: [PATCH_OP], Operations: operations } });
  const memberIds = async (id: string) =>
    (await t.runtime.database.db.selectFrom('group_members').select('user_id').where('group_id', '=', id).orderBy('user_id').execute()).map((r) => r.user_id);
  const sorted = (...ids: string[]) => [...ids].sort();

  it('POST creates a group with members; GET answers it, members with names; the user shows the group', async () => {
    const res = await scim(t, token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Engineering', externalId: 'okta-g1', members: [{ value: alice.id, display: 'Alice' }] } });
    expect(res.statusCode, res.body).toBe(201);
    const group = res.json();
    expect(res.headers.location).toBe(group.meta.location);
    expect(group).toEqual({
      schemas: [GROUP], id: expect.any(String), externalId: 'okta-g1', displayName: 'Engineering',
      members: [{ value: alice.id, display: 'Alice A' }],
      meta: { resourceType: 'Group', created: expect.any(String), lastModified: expect.any(String), location: expect.stringMatching(/\/scim\/v2\/Groups\//), version: expect.any(String) },
    });
    expect((await scim(t, token, 'GET', `/Groups/${group.id}`)).json()).toEqual(group);
    expect((await scim(t, token, 'GET', `/Groups/${group.id}`, { query: { excludedAttributes: 'members' } })).json()).not.toHaveProperty('members');
    expect((await scim(t, token, 'GET', `/Users/${alice.id}`)).json().groups).toEqual([{ value: group.id, display: 'Engineering' }]);
    const events = (await auditEvents(t, admin.id, 'group.')).filter((e) => e.target_id === group.id);
    expect(events.map((e) => [e.action, e.actor_kind])).toEqual([['group.created', 'scim'], ['group.members.added', 'scim']]);
    expect(events[1]!.details.userIds).toEqual([alice.id]);
  });

  it('filters groups by displayName (any case) and externalId; no match answers an empty list', async () => {
    const group = await createGroup('Filter Group');
    for (const filter of ['displayName eq "filter group"', 'externalId eq "ext-Filter Group"', `id eq "${group.id}"`]) {
      const res = await scim(t, token, 'GET', '/Groups', { query: { filter, excludedAttributes: 'members' } });
      expect(res.json().Resources.map((g: { id: string }) => g.id), filter).toEqual([group.id]);
    }
    expect((await scim(t, token, 'GET', '/Groups', { query: { filter: 'displayName eq "nothing"' } })).json()).toMatchObject({ totalResults: 0, Resources: [] });
    expect((await scim(t, token, 'GET', '/Groups', { query: { filter: 'displayName sw "F"' } })).json()).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });

  it('PATCH changes members in the Okta and Entra ID forms and renames; each change audited', async () => {
    const group = await createGroup('Patchers');
    const steps: [unknown[], string[]][] = [
      [[{ op: 'add', path: 'members', value: [{ value: alice.id, display: 'alice' }] }], [alice.id]],
      [[{ op: 'Add', path: 'members', value: [{ $ref: null, value: bob.id }] }], [alice.id, bob.id]],
      [[{ op: 'remove', path: `members[value eq "${alice.id}"]` }], [bob.id]],
      [[{ op: 'Remove', path: 'members', value: [{ $ref: null, value: bob.id }] }], []],
      [[{ op: 'replace', path: 'members', value: [{ value: alice.id }, { value: bob.id }] }], [alice.id, bob.id]],
      [[{ op: 'remove', path: 'members' }], []],
    ];
    for (const [operations, expected] of steps) {
      const res = await patch(group.id, operations);
      expect(res.statusCode, res.body).toBe(200);
      expect(await memberIds(group.id), JSON.stringify(operations)).toEqual(sorted(...expected));
    }
    const renamed = await patch(group.id, [{ op: 'replace', value: { id: group.id, displayName: 'Patchers Renamed' } }]);
    expect(renamed.json().displayName).toBe('Patchers Renamed');
    expect((await patch(group.id, [{ op: 'Replace', path: 'displayName', value: 'Patchers 2' }])).json().displayName).toBe('Patchers 2');
    const actions = (await auditEvents(t, admin.id, 'group.')).filter((e) => e.target_id === group.id).map((e) => e.action);
    expect(actions).toEqual(['group.created', 'group.members.added', 'group.members.added', 'group.members.removed', 'group.members.removed', 'group.members.added', 'group.members.removed', 'group.updated', 'group.updated']);
  });

  it('PUT replaces name and members', async () => {
    const group = await createGroup('Put Group', [alice.id]);
    const res = await scim(t, token, 'PUT', `/Groups/${group.id}`, { body: { schemas: [GROUP], id: group.id, displayName: 'Put Group 2', members: [{ value: bob.id }] } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ displayName: 'Put Group 2', members: [{ value: bob.id }] });
    expect(res.json()).not.toHaveProperty('externalId');
    expect(await memberIds(group.id)).toEqual([bob.id]);
  });

  it("membership through SCIM changes a member's effective roles (roles given to the group in Custos), on the next request", async () => {
    const group = await createGroup('Auditors');
    const roles = await t.app.inject({ method: 'PATCH', url: `/api/v1/groups/${group.id}`, headers: bearer(admin.token), payload: { roles: ['auditor'] } });
    expect(roles.statusCode, roles.body).toBe(200);
    const session = await sessionOf(t, admin, bob.id, 'bob@acme.example');
    const readUsers = () => t.app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer(session) });
    expect((await readUsers()).statusCode).toBe(403);
    expect((await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: bob.id }] }])).statusCode).toBe(200);
    expect((await readUsers()).statusCode).toBe(200);
    expect((await patch(group.id, [{ op: 'remove', path: `members[value eq "${bob.id}"]` }])).statusCode).toBe(200);
    expect((await readUsers()).statusCode).toBe(403);
    expect((await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: bob.id }] }])).statusCode).toBe(200);
    expect((await scim(t, token, 'DELETE', `/Groups/${group.id}`)).statusCode).toBe(204);
    expect((await readUsers()).statusCode).toBe(403);
    expect((await scim(t, token, 'GET', `/Groups/${group.id}`)).statusCode).toBe(404);
    const [deleted] = (await auditEvents(t, admin.id, 'group.deleted')).filter((e) => e.target_id === group.id);
    expect(deleted).toMatchObject({ actor_kind: 'scim', details: { name: 'Auditors', members: 1 } });
  });

  it('a taken displayName answers 409 uniqueness; unknown or foreign member ids answer 400 and nothing is written', async () => {
    await createGroup('Taken');
    const dup = await scim(t, token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Taken' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
    const foreignUser = (await scim(t, otherToken, 'POST', '/Users', { body: userBody('foreign@other.example') })).json();
    const count = async () => Number((await t.runtime.database.db.selectFrom('groups').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const foreign = await scim(t, token, 'POST', '/Groups', { body: { schemas: [GROUP], displayName: 'Foreign', members: [{ value: foreignUser.id }] } });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json()).toMatchObject({ scimType: 'invalidValue', detail: expect.stringContaining(foreignUser.id) });
    expect(await count()).toBe(before);
    const group = await createGroup('Strict', [alice.id]);
    const add = await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: 'not-a-user' }] }]);
    expect(add.json()).toMatchObject({ status: '400', scimType: 'invalidValue' });
    const rename = await patch(group.id, [{ op: 'replace', path: 'displayName', value: 'Taken' }]);
    expect(rename.json()).toMatchObject({ status: '409', scimType: 'uniqueness' });
    for (const [operations, scimType] of [[[{ op: 'remove', path: 'displayName' }], 'mutability'], [[{ op: 'add', path: 'owner', value: 'x' }], 'invalidPath'], [[{ op: 'add', path: 'members', value: 'alice' }], 'invalidValue']] as const) {
      expect((await patch(group.id, [...operations])).json()).toMatchObject({ status: '400', scimType });
    }
    expect(await memberIds(group.id)).toEqual([alice.id]);
  });

  it("another tenant's group ids answer 404 to every method; nothing changes", async () => {
    const theirs = await createGroup('Theirs', [], otherToken);
    for (const [method, body] of [['GET', undefined], ['PUT', { displayName: 'Mine' }], ['PATCH', { Operations: [{ op: 'remove', path: 'members' }] }], ['DELETE', undefined]] as const) {
      const res = await scim(t, token, method, `/Groups/${theirs.id}`, { body });
      expect(res.statusCode, method).toBe(404);
      expect(res.json()).toMatchObject({ schemas: [ERROR], status: '404' });
    }
    expect((await scim(t, otherToken, 'GET', `/Groups/${theirs.id}`)).json().displayName).toBe('Theirs');
  });
});
