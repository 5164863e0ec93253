import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

type Person = Awaited<ReturnType<typeof activeUser>>;

describe.each(dialects)('the notification inbox on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Person;
  let bob: Person;
  let stranger: Person;
  let credentialId: string;

  const inbox = async (who: { token: string }, query = '') => {
    const res = await apiCall(t, 'GET', `/notifications${query}`, who.token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { notifications: { id: string; kind: string; subject: string; text: string; link: { type: string; id: string } | null; readAt: string | null; createdAt: string }[]; nextCursor: string | null; unreadCount: number };
  };
  /** A request bob is told about; cancelled at once unless kept, so alice may ask again (cancelling tells nobody). */
  const askAccess = async (keep = false) => {
    const res = await apiCall(t, 'POST', '/access-requests', alice.token, { credentialId, justification: 'CHG-42 patch the database' });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().request.id as string;
    if (!keep) expect((await apiCall(t, 'POST', `/access-requests/${id}/cancel`, alice.token)).statusCode).toBe(200);
    return id;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('inbox-a');
    other = await t.tenantWithAdmin('inbox-b');
    alice = await activeUser(t, admin, 'alice');
    bob = await activeUser(t, admin, 'bob');
    stranger = await activeUser(t, other, 'stranger');
    const device = (await apiCall(t, 'POST', '/devices', admin.token, { name: 'db01', address: 'db01.acme.internal', port: 5432, protocol: 'postgres' })).json().device;
    const credential = await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: device.id, username: 'dba', type: 'password', secret: 'Pw_dba_Aa1-2026-xyz:=', tags: ['gated'] });
    expect(credential.statusCode, credential.body).toBe(201);
    credentialId = credential.json().credential.id;
    const policy = await apiCall(t, 'POST', '/access-policies', admin.token, {
      name: 'gated', members: { users: [alice.id], groups: [] }, filters: { credentialTags: ['gated'] },
      actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [bob.id] }, required: 1 }], approvalValidMinutes: 60 } },
    });
    expect(policy.statusCode, policy.body).toBe(201);
  });
  afterAll(async () => t.close());

  it('deleting a user removes their inbox with them', async () => {
    const leaver = await activeUser(t, admin, 'leaver');
    const row = { tenant_id: admin.id, id: '0190a5f0-0000-7000-8000-0000000000aa', user_id: leaver.id, kind: 'test', subject: 's', text: 't', link_type: null, link_id: null, read_at: null, created_at: t.clock.now() };
    await t.runtime.database.db.insertInto('notifications').values(row).execute();
    expect((await inbox(leaver)).unreadCount).toBe(1);
    expect((await apiCall(t, 'DELETE', `/users/${leaver.id}`, admin.token)).statusCode).toBe(204);
    const left = await t.runtime.database.db.selectFrom('notifications').select('id').where('tenant_id', '=', admin.id).where('user_id', '=', leaver.id).execute();
    expect(left).toEqual([]);
  });

  it('an access request lands in its approver\'s inbox, and the decision in its requester\'s', async () => {
    const requestId = await askAccess(true);
    const bobs = await inbox(bob);
    expect(bobs.unreadCount).toBe(1);
    expect(bobs.notifications).toEqual([expect.objectContaining({ kind: 'access_request.created', link: { type: 'access_request', id: requestId }, readAt: null, createdAt: new Date(t.clock.now()).toISOString() })]);
    expect(bobs.notifications[0]!.subject).toMatch(/approval/);
    expect((await inbox(alice)).notifications).toEqual([]);

    const approved = await apiCall(t, 'POST', `/access-requests/${requestId}/approve`, bob.token, {});
    expect(approved.statusCode, approved.body).toBe(200);
    const alices = await inbox(alice);
    expect(alices.notifications.map((n) => n.kind)).toEqual(['access_request.approved']);
    expect(alices.notifications[0]!.link).toEqual({ type: 'access_request', id: requestId });
    expect((await inbox(stranger)).notifications).toEqual([]);
    expect((await apiCall(t, 'POST', `/access-requests/${requestId}/cancel`, alice.token)).statusCode).toBe(200);
  });

  it('reading marks only the caller\'s own notification, keeps the first read time, and unread=true hides it', async () => {
    await askAccess();
    const before = await inbox(bob, '?unread=true');
    const id = before.notifications[0]!.id;
    const readAt = new Date(t.clock.now()).toISOString();
    const read = await apiCall(t, 'POST', `/notifications/${id}/read`, bob.token);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().notification).toMatchObject({ id, readAt });
    t.clock.advance(1000);
    expect((await apiCall(t, 'POST', `/notifications/${id}/read`, bob.token)).json().notification.readAt).toBe(readAt);
    const after = await inbox(bob, '?unread=true');
    expect(after.unreadCount).toBe(before.unreadCount - 1);
    expect(after.notifications.map((n) => n.id)).not.toContain(id);
    expect((await inbox(bob)).notifications.map((n) => n.id)).toContain(id);
  });

  it('another user\'s or another tenant\'s notification answers 404 NOTIFICATION_NOT_FOUND and stays unread', async () => {
    await askAccess();
    const target = (await inbox(bob, '?unread=true')).notifications[0]!.id;
    for (const [who, id] of [[alice, target], [stranger, target], [other, target], [alice, 'not-an-id'], [alice, '0190f0f0-0000-7000-8000-000000000000']] as const) {
      const res = await apiCall(t, 'POST', `/notifications/${id}/read`, who.token);
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.code).toBe('NOTIFICATION_NOT_FOUND');
    }
    expect((await inbox(bob, '?unread=true')).notifications.map((n) => n.id)).toContain(target);
  });

  it('read-all marks every unread notification of the caller and nobody else\'s', async () => {
    await askAccess();
    const alicesUnread = (await inbox(alice)).unreadCount;
    const res = await apiCall(t, 'POST', '/notifications/read-all', bob.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ unreadCount: 0 });
    expect(res.json().marked).toBeGreaterThan(0);
    expect((await inbox(bob, '?unread=true')).notifications).toEqual([]);
    expect((await inbox(alice)).unreadCount).toBe(alicesUnread);
  });

  it('the inbox pages newest first with limit and cursor', async () => {
    for (let i = 0; i < 3; i += 1) {
      t.clock.advance(1000);
      await askAccess();
    }
    const all = (await inbox(bob, '?limit=100')).notifications.map((n) => n.id);
    expect(all).toEqual([...all].sort().reverse());
    const first = await inbox(bob, '?limit=2');
    expect(first.notifications.map((n) => n.id)).toEqual(all.slice(0, 2));
    const second = await inbox(bob, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.notifications.map((n) => n.id)).toEqual(all.slice(2, 4));
    const last = await inbox(bob, `?limit=100&cursor=${all[all.length - 2]}`);
    expect(last).toMatchObject({ nextCursor: null, notifications: [expect.objectContaining({ id: all[all.length - 1] })] });
  });

  it('bad query and body input answer 400 VALIDATION_FAILED', async () => {
    for (const query of ['?unread=yes', '?limit=0', '?limit=101', '?limit=abc', '?colour=red']) {
      const res = await apiCall(t, 'GET', `/notifications${query}`, bob.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    const extra = await apiCall(t, 'POST', '/notifications/read-all', bob.token, { everything: true });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('an API client has no inbox: 403 USER_REQUIRED', async () => {
    const created = await apiCall(t, 'POST', '/clients', admin.token, { name: 'Robot', scopes: ['identity.users.read'] });
    expect(created.statusCode, created.body).toBe(201);
    const token = await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', payload: { grant_type: 'client_credentials', client_id: created.json().client.clientId, client_secret: created.json().clientSecret } });
    expect(token.statusCode, token.body).toBe(200);
    for (const [method, url] of [['GET', '/notifications'], ['POST', '/notifications/read-all']] as const) {
      const res = await apiCall(t, method, url, token.json().access_token);
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().error.code).toBe('USER_REQUIRED');
    }
  });

  it('an unauthenticated caller gets 401', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/notifications' })).statusCode).toBe(401);
  });
});
