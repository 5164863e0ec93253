import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('access policy validation and audit on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: string;
  let bob: string;
  let pair: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('access-v');
    alice = (await activeUser(t, admin, 'alice')).id;
    bob = (await activeUser(t, admin, 'bob')).id;
    pair = (await call('POST', '/groups', admin.token, { name: 'Pair', members: [alice, bob] })).json().group.id;
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const state = async () => ({
    policies: await db().selectFrom('access_policies').selectAll().where('tenant_id', '=', admin.id).orderBy('id').execute(),
    subjects: await db().selectFrom('access_policy_subjects').selectAll().where('tenant_id', '=', admin.id).orderBy('policy_id').orderBy('subject_id').execute(),
    events: (await db().selectFrom('audit_events').select('seq').where('tenant_id', '=', admin.id).orderBy('seq').execute()).length,
  });
  const valid = () => ({ name: 'Valid', members: { users: [alice] }, actions: { reveal: { mode: 'allow' } } });
  const approval = (levels: object[], extra: object = {}) => ({ ...valid(), actions: { reveal: { mode: 'approval', levels, ...extra } } });
  const level = (users: string[], required: number, groups: string[] = []) => ({ approvers: { users, groups }, required });
  const window = (restriction: object) => ({ ...valid(), actions: { reveal: { mode: 'allow', timeRestriction: restriction } } });

  it('bad input gets 400 VALIDATION_FAILED naming what is wrong, and writes nothing', async () => {
    const target = (await call('POST', '/access-policies', admin.token, { ...valid(), name: 'Target' })).json().accessPolicy;
    const before = await state();
    const cases: [object, string?][] = [
      [{ ...valid(), extra: 1 }],
      [{ ...valid(), name: '  ' }],
      [{ ...valid(), name: 'x'.repeat(201) }],
      [{ ...valid(), members: { users: [], groups: [] } }, 'name at least one user or group'],
      [{ ...valid(), members: { users: [alice], roles: ['x'] } }],
      [{ ...valid(), actions: {} }, 'Grant at least one action'],
      [{ ...valid(), actions: { delete: { mode: 'allow' } } }],
      [{ ...valid(), actions: { reveal: { mode: 'deny' } } }, 'mode is one of: allow, justification, approval'],
      [{ ...valid(), actions: { reveal: { mode: 'approval' } } }, 'mode approval needs levels'],
      [{ ...valid(), actions: { reveal: { mode: 'allow', levels: [level([bob], 1)] } } }, 'belong to mode approval only'],
      [{ ...valid(), actions: { reveal: { mode: 'justification', approvalValidMinutes: 30 } } }, 'belong to mode approval only'],
      [approval([]), 'An approval names 1 to 3 levels'],
      [approval([level([bob], 1), level([bob], 1), level([bob], 1), level([bob], 1)]), 'An approval names 1 to 3 levels'],
      [approval([level([bob], 0)]), 'required is at least 1'],
      [approval([level([bob], 1.5)])],
      [approval([level([], 1)]), 'names at least one approver'],
      [approval([level([bob], 1)], { approvalValidMinutes: 0 }), 'approvalValidMinutes is 1 to 10080'],
      [approval([level([bob], 1)], { approvalValidMinutes: 10_081 }), 'approvalValidMinutes is 1 to 10080'],
      [window({ timeZone: 'Mars/Olympus', hours: { from: '09:00', to: '17:00' } }), 'timeZone must be an IANA time zone'],
      [window({ timeZone: '+02:00', hours: { from: '09:00', to: '17:00' } }), 'timeZone must be an IANA time zone'],
      [window({ timeZone: 'UTC' }), 'names weekdays, hours or both'],
      [window({ timeZone: 'UTC', weekdays: ['monday'] }), 'A weekday is one of: mon, tue'],
      [window({ timeZone: 'UTC', weekdays: [] })],
      [window({ timeZone: 'UTC', hours: { from: '24:00', to: '06:00' } }), 'hours.from is a time of day'],
      [window({ timeZone: 'UTC', hours: { from: '9:00', to: '17:00' } }), 'hours.from is a time of day'],
      [window({ timeZone: 'UTC', hours: { from: '09:00', to: '17:60' } }), 'hours.to is a time of day'],
      [window({ timeZone: 'UTC', hours: { from: '09:00', to: '09:00' } }), 'must differ'],
      [{ ...valid(), filters: { deviceNames: ['{user.username}'] } }, 'allowed only in credentialUsernames'],
      [{ ...valid(), filters: { credentialUsernames: ['{user.email}'] } }, 'The only mask is {user.username}'],
      [{ ...valid(), filters: { credentialTypes: ['certificate'] } }, 'A credential type is one of: password, ssh-key, api-key'],
      [{ ...valid(), filters: { deviceTags: [] } }],
      [{ ...valid(), filters: { deviceTags: Array.from({ length: 101 }, (_, i) => `t${i}`) } }],
      [{ ...valid(), filters: { site: ['Paris'] } }],
      [{ ...valid(), enabled: 'yes' }],
    ];
    for (const [payload, message] of cases) {
      const res = await call('POST', '/access-policies', admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code, JSON.stringify(payload)).toBe('VALIDATION_FAILED');
      if (message) expect(res.json().error.message, JSON.stringify(payload)).toContain(message);
    }
    for (const patch of [{}, { id: 'x' }, { name: null }, { actions: {} }, { members: { users: [] } }, { enabled: 1 }]) {
      const res = await call('PATCH', `/access-policies/${target.id}`, admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect(await state()).toEqual(before);
  });

  it('members and approvers must be users and groups of the tenant (400 UNKNOWN_USER, UNKNOWN_GROUP), and nothing is written', async () => {
    const before = await state();
    for (const [payload, code] of [
      [{ ...valid(), members: { users: [alice, 'not-an-id'] } }, 'UNKNOWN_USER'],
      [{ ...valid(), members: { groups: ['00000000-0000-7000-8000-000000000000'] } }, 'UNKNOWN_GROUP'],
      [approval([level([bob], 1), level(['00000000-0000-7000-8000-000000000001'], 1)]), 'UNKNOWN_USER'],
      [approval([level([], 1, [alice])]), 'UNKNOWN_GROUP'],
    ] as const) {
      const res = await call('POST', '/access-policies', admin.token, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.code).toBe(code);
    }
    expect(await state()).toEqual(before);
  });

  it('a level may require at most as many approvals as it has people: named users plus current members of named groups, each counted once', async () => {
    const unreachable = async (levels: object[]) => {
      const res = await call('POST', '/access-policies', admin.token, { ...approval(levels), name: `Level ${JSON.stringify(levels).length}` });
      return res.statusCode === 400 ? res.json().error.code : res.statusCode;
    };
    expect(await unreachable([level([bob], 2)])).toBe('APPROVALS_UNREACHABLE');
    expect(await unreachable([level([], 3, [pair])])).toBe('APPROVALS_UNREACHABLE');
    expect(await unreachable([level([bob, alice], 3, [pair])])).toBe('APPROVALS_UNREACHABLE');
    expect(await unreachable([level([bob], 1), level([], 2, [pair])])).toBe(201);
    const res = await call('POST', '/access-policies', admin.token, { ...approval([level([bob], 2)]), name: 'Unreachable' });
    expect(res.json().error.message).toContain('requires 2 approvals but its approvers are 1 people');
  });

  it('every change writes its event (category access, ids 6001-6003) with the rules and no description; a refused change writes none', async () => {
    const before = (await state()).events;
    const created = (await call('POST', '/access-policies', admin.token, { ...approval([level([bob], 1)]), name: 'Audited', description: 'kept out of the audit' })).json().accessPolicy;
    // Sending back the rules as read is no change: no event.
    expect((await call('PATCH', `/access-policies/${created.id}`, admin.token, { actions: created.actions, filters: {} })).json().accessPolicy).toEqual(created);
    await call('PATCH', `/access-policies/${created.id}`, admin.token, { enabled: false, members: { groups: [pair] } });
    await call('PATCH', `/access-policies/${created.id}`, admin.token, { members: { users: ['junk'] } });
    await call('DELETE', `/access-policies/${created.id}`, admin.token);
    const self = (await call('GET', '/auth/me', admin.token)).json().user.id;
    const events = await db().selectFrom('audit_events').select(['action', 'target_id', 'details', 'actor_id', 'category', 'type_id']).where('tenant_id', '=', admin.id).where('target_id', '=', created.id).orderBy('seq').execute();
    expect(events.map((e) => [e.action, e.type_id, e.category, e.actor_id])).toEqual([
      ['access_policy.created', 6001, 'access', self],
      ['access_policy.updated', 6002, 'access', self],
      ['access_policy.deleted', 6003, 'access', self],
    ]);
    const [made, updated, deleted] = events.map((e) => JSON.parse(e.details));
    expect({ ...made, actions: JSON.parse(made.actions) }).toEqual({ name: 'Audited', enabled: true, memberUsers: [alice], memberGroups: [], filters: '{}', actions: created.actions });
    expect(JSON.stringify(made)).not.toContain('kept out of the audit');
    expect(updated).toMatchObject({ fields: ['enabled', 'members'], enabled: false, memberUsers: [], memberGroups: [pair] });
    expect(deleted).toEqual({ name: 'Audited' });
    expect((await state()).events).toBe(before + 3);
    expect(await t.runtime.audit.verify(t.runtime.database.db, admin.id)).toMatchObject({ ok: true });
  });

  it('the routes are documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/api/v1/access-policies'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/access-policies/{id}'])).toEqual(expect.arrayContaining(['get', 'patch', 'delete']));
    expect(Object.keys(doc.paths['/api/v1/access-policies/evaluate'])).toEqual(['get']);
    expect(doc.paths['/api/v1/access-policies'].post.requestBody.content['application/json'].schema.required).toEqual(expect.arrayContaining(['name', 'members', 'actions']));
  });
});
