import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { auditEvents, createScimToken, scim, userBody } from './fixtures/support.js';

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

describe.each(dialects)('SCIM users on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let token: string;
  let otherToken: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('scim-users-a');
    token = await createScimToken(t, admin);
    otherToken = await createScimToken(t, await t.tenantWithAdmin('scim-users-b'));
  });
  afterAll(async () => t.close());

  const db = () => t.runtime.database.db;
  const userRow = (id: string) => db().selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  const userCount = async () => Number((await db().selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', admin.id).executeTakeFirstOrThrow()).n);
  async function create(userName: string, extra: Record<string, unknown> = {}, by = token) {
    const res = await scim(t, by, 'POST', '/Users', { body: userBody(userName, extra) });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const find = async (filter: string, by = token) => {
    const res = await scim(t, by, 'GET', '/Users', { query: { filter } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { totalResults: number; Resources: { id: string; userName: string }[] };
  };

  it('POST creates an active user without a local password and answers the SCIM resource (201, Location, scim+json)', async () => {
    const res = await scim(t, token, 'POST', '/Users', { body: userBody('Jane.Doe@Acme.example', { externalId: 'okta-00u1', displayName: 'Jane D.', name: { givenName: 'Jane', familyName: 'Doe' } }) });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['content-type']).toBe('application/scim+json; charset=utf-8');
    const user = res.json();
    expect(res.headers.location).toBe(user.meta.location);
    expect(user).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: expect.any(String), externalId: 'okta-00u1', userName: 'jane.doe@acme.example',
      name: { formatted: 'Jane D.', givenName: 'Jane', familyName: 'Doe' }, displayName: 'Jane D.', emails: [{ value: 'Jane.Doe@Acme.example', type: 'work', primary: true }],
      active: true, groups: [],
      meta: { resourceType: 'User', created: expect.any(String), lastModified: expect.any(String), location: expect.stringMatching(new RegExp(`/scim/v2/Users/${user.id}$`)), version: expect.stringMatching(/^W\/"/) },
    });
    expect(await userRow(user.id)).toMatchObject({ tenant_id: admin.id, status: 'active', password_hash: null, external_id: 'okta-00u1', given_name: 'Jane', family_name: 'Doe' });
    const [event] = await auditEvents(t, admin.id, 'user.created').then((events) => events.filter((e) => e.target_id === user.id));
    const tokenId = (await db().selectFrom('scim_tokens').select('id').where('tenant_id', '=', admin.id).executeTakeFirstOrThrow()).id;
    expect(event).toMatchObject({ actor_kind: 'scim', actor_id: tokenId, details: { username: 'jane.doe@acme.example', externalId: 'okta-00u1' } });
    const fetched = await scim(t, token, 'GET', `/Users/${user.id}`);
    expect(fetched.json()).toEqual(user);
  });

  it('accepts application/json bodies as well; another content type answers 415 as a SCIM error', async () => {
    const json = await scim(t, token, 'POST', '/Users', { body: userBody('json.body'), contentType: 'application/json' });
    expect(json.statusCode, json.body).toBe(201);
    const charset = await scim(t, token, 'POST', '/Users', { body: userBody('charset.body'), contentType: 'application/scim+json; charset=utf-8' });
    expect(charset.statusCode, charset.body).toBe(201);
    const text = await scim(t, token, 'POST', '/Users', { body: 'userName=x', contentType: 'text/plain' });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ schemas: [ERROR], status: '415' });
  });

  it('a taken userName, in any case, answers 409 uniqueness and writes nothing', async () => {
    await create('dup.user');
    const before = await userCount();
    const res = await scim(t, token, 'POST', '/Users', { body: userBody('DUP.User') });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ schemas: [ERROR], status: '409', scimType: 'uniqueness', detail: expect.stringContaining('dup.user') });
    expect(await userCount()).toBe(before);
  });

  it('filters: userName (attribute and value in any case), externalId, emails, displayName, id and "and"; no match answers an empty ListResponse', async () => {
    const user = await create('filter.me', { externalId: 'Ext-7', displayName: 'Filter Me', emails: [{ value: 'Filter.Me@Acme.example', type: 'work', primary: true }] });
    for (const filter of ['userName eq "filter.me"', 'USERNAME EQ "Filter.Me"', 'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "filter.me"', 'externalId eq "Ext-7"', 'emails.value eq "filter.me@acme.example"',
      'emails[type eq "work"].value eq "FILTER.ME@acme.example"', 'displayName eq "filter me"', `id eq "${user.id}"`, 'userName eq "filter.me" and externalId eq "Ext-7"', 'active eq true and userName eq "filter.me"']) {
      const found = await find(filter);
      expect(found.Resources.map((r) => r.id), filter).toEqual([user.id]);
    }
    for (const filter of ['externalId eq "ext-7"', 'userName eq "filter.me" and externalId eq "other"', 'userName eq "nobody@acme.example"', 'active eq false and userName eq "filter.me"', 'userName eq 5']) {
      expect(await find(filter), filter).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
    }
  });

  it('refuses filters it cannot answer with 400 invalidFilter', async () => {
    for (const filter of ['userName co "jane"', 'userName eq "a" or userName eq "b"', 'title eq "boss"', '(userName eq "a")', 'userName eq', 'userName pr', 'emails[type eq "home"].value eq "x"', 'userName eq "a" junk']) {
      const res = await scim(t, token, 'GET', '/Users', { query: { filter } });
      expect(res.statusCode, filter).toBe(400);
      expect(res.json(), filter).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
    }
  });

  it('startIndex and count page through users in creation order; totalResults counts every match', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) created.push((await create(`page.${i}`, { externalId: 'paged' })).id);
    const page = async (query: Record<string, string>) => (await scim(t, token, 'GET', '/Users', { query: { filter: 'externalId eq "paged"', ...query } })).json();
    const first = await page({ startIndex: '1', count: '2' });
    expect(first).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 2 });
    expect(first.Resources.map((r: { id: string }) => r.id)).toEqual(created.slice(0, 2));
    expect((await page({ startIndex: '5', count: '2' })).Resources.map((r: { id: string }) => r.id)).toEqual(created.slice(4));
    expect(await page({ count: '0' })).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    expect((await page({ startIndex: '0', count: '-3' }))).toMatchObject({ startIndex: 1, itemsPerPage: 0 });
    const all = await scim(t, token, 'GET', '/Users', { query: { count: '1000' } });
    expect(all.json().itemsPerPage).toBeLessThanOrEqual(200);
    const bad = await scim(t, token, 'GET', '/Users', { query: { count: 'many' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().scimType).toBe('invalidValue');
  });

  it('attributes and excludedAttributes choose what comes back; id and schemas always do', async () => {
    const user = await create('project.me');
    const only = (await scim(t, token, 'GET', `/Users/${user.id}`, { query: { attributes: 'userName,name.givenName' } })).json();
    expect(Object.keys(only).sort()).toEqual(['id', 'name', 'schemas', 'userName']);
    const without = (await scim(t, token, 'GET', '/Users', { query: { filter: 'userName eq "project.me"', excludedAttributes: 'groups,meta' } })).json().Resources[0];
    expect(without).not.toHaveProperty('groups');
    expect(without).not.toHaveProperty('meta');
    expect(without.userName).toBe('project.me');
    const created = await scim(t, token, 'POST', '/Users', { body: userBody('project.created'), query: { attributes: 'userName' } });
    expect(created.statusCode, created.body).toBe(201);
    expect(Object.keys(created.json()).sort()).toEqual(['id', 'schemas', 'userName']);
  });

  it('PUT replaces what SCIM manages: attributes left out become empty, active left out keeps the status', async () => {
    const user = await create('put.me', { externalId: 'put-1', displayName: 'Put Me' });
    t.clock.advance(1000);
    const res = await scim(t, token, 'PUT', `/Users/${user.id}`, { body: { schemas: [user.schemas[0]], id: user.id, userName: 'put.renamed', emails: [{ value: 'put.renamed@acme.example', primary: true }], name: { givenName: 'Put' } } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ userName: 'put.renamed', displayName: 'Put', name: { givenName: 'Put', formatted: 'Put' }, emails: [{ value: 'put.renamed@acme.example' }], active: true });
    expect(res.json()).not.toHaveProperty('externalId');
    expect(res.json().meta.lastModified).not.toBe(user.meta.lastModified);
    const [updated] = (await auditEvents(t, admin.id, 'user.updated')).filter((e) => e.target_id === user.id);
    expect(updated!.details.fields).toEqual(['userName', 'email', 'displayName', 'givenName', 'familyName', 'externalId']);
    const taken = await scim(t, token, 'PUT', `/Users/${user.id}`, { body: userBody(admin.username) });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().scimType).toBe('uniqueness');
  });

  it('PATCH takes the forms Okta and Entra ID send, with and without paths', async () => {
    const user = await create('patch.me', { name: { givenName: 'Pat', familyName: 'Me' } });
    expect(user.displayName).toBe('Pat Me');
    const patch = async (operations: unknown[]) => {
      const res = await scim(t, token, 'PATCH', `/Users/${user.id}`, { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    expect(await patch([{ op: 'Replace', path: 'name.familyName', value: 'Smith' }])).toMatchObject({ name: { givenName: 'Pat', familyName: 'Smith' }, displayName: 'Pat Smith' });
    expect(await patch([{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'pat.smith@acme.example' }])).toMatchObject({ emails: [{ value: 'pat.smith@acme.example' }] });
    expect(await patch([{ op: 'Add', path: 'externalId', value: 'entra-9' }, { op: 'Add', path: 'displayName', value: 'Patricia' }])).toMatchObject({ externalId: 'entra-9', displayName: 'Patricia' });
    expect(await patch([{ op: 'replace', value: { id: user.id, userName: 'Patricia.Smith', name: { familyName: 'Smyth' }, title: 'ignored' } }])).toMatchObject({ userName: 'patricia.smith', name: { familyName: 'Smyth' }, displayName: 'Patricia' });
    const removed = await patch([{ op: 'remove', path: 'displayName' }, { op: 'Add', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Ops' }]);
    expect(removed).not.toHaveProperty('displayName');
    expect(removed.name.formatted).toBe('Pat Smyth');
  });

  it('refuses bad input with 400 and the RFC scimType, writing nothing', async () => {
    const user = await create('bad.input');
    const before = await userRow(user.id);
    const count = await userCount();
    const cases: [string, 'POST' | 'PATCH', unknown, string][] = [
      ['no userName', 'POST', { schemas: [], emails: [{ value: 'a@b.example' }] }, 'invalidValue'],
      ['bad userName', 'POST', userBody('no spaces allowed'), 'invalidValue'],
      ['bad email', 'POST', userBody('x.y', { emails: [{ value: 'not-an-email' }] }), 'invalidValue'],
      ['no email at all', 'POST', { userName: 'no.email' }, 'invalidValue'],
      ['unknown attribute', 'POST', userBody('x.z', { favouriteColour: 'blue' }), 'invalidSyntax'],
      ['a password', 'POST', userBody('x.w', { password: 'Sup3r secret!' }), 'invalidValue'],
      ['wrong type', 'POST', userBody('x.v', { active: 'maybe' }), 'invalidValue'],
      ['not json', 'POST', '{"userName":', 'invalidSyntax'],
      ['unknown op', 'PATCH', { Operations: [{ op: 'move', path: 'userName', value: 'x' }] }, 'invalidValue'],
      ['no operations', 'PATCH', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] }, 'invalidValue'],
      ['unknown path', 'PATCH', { Operations: [{ op: 'replace', path: 'shoeSize', value: 42 }] }, 'invalidPath'],
      ['remove without path', 'PATCH', { Operations: [{ op: 'remove' }] }, 'noTarget'],
      ['remove userName', 'PATCH', { Operations: [{ op: 'remove', path: 'userName' }] }, 'mutability'],
      ['active not boolean', 'PATCH', { Operations: [{ op: 'replace', path: 'active', value: 'no' }] }, 'invalidValue'],
      ['bad email value', 'PATCH', { Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'nope' }] }, 'invalidValue'],
      ['later op fails', 'PATCH', { Operations: [{ op: 'replace', path: 'displayName', value: 'Changed' }, { op: 'replace', path: 'nope', value: 1 }] }, 'invalidPath'],
    ];
    for (const [name, method, body, scimType] of cases) {
      const res = await scim(t, token, method, method === 'POST' ? '/Users' : `/Users/${user.id}`, { body });
      expect(res.statusCode, `${name}: ${res.body}`).toBe(400);
      expect(res.json(), name).toMatchObject({ schemas: [ERROR], status: '400', scimType });
    }
    expect(await userRow(user.id)).toEqual(before);
    expect(await userCount()).toBe(count);
  });

  it("another tenant's user ids answer 404 to GET, PUT, PATCH and DELETE, and nothing changes", async () => {
    const theirs = await create('theirs.user', {}, otherToken);
    const patch = { Operations: [{ op: 'replace', path: 'active', value: false }] };
    for (const [method, body] of [['GET', undefined], ['PUT', userBody('hijack')], ['PATCH', patch], ['DELETE', undefined]] as const) {
      const res = await scim(t, token, method, `/Users/${theirs.id}`, { body });
      expect(res.statusCode, method).toBe(404);
      expect(res.json()).toMatchObject({ schemas: [ERROR], status: '404' });
    }
    expect((await scim(t, token, 'GET', '/Users/not-an-id')).statusCode).toBe(404);
    expect((await find('userName eq "theirs.user"')).totalResults).toBe(0);
    expect(await userRow(theirs.id)).toMatchObject({ username: 'theirs.user', status: 'active' });
  });

  it('unknown SCIM endpoints answer 404 as SCIM errors', async () => {
    const res = await scim(t, token, 'GET', '/Bulk');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ schemas: [ERROR], status: '404' });
  });
});
