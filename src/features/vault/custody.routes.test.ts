import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { createLogger } from '../../platform/log.js';
import { custodyJobHandlers } from './custody.jobs.js';

const pw = (label: string) => `Pw_${label}_Aa1-2026-xyz:=`;

describe.each(dialects)('checking credentials out and in on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let bob: Awaited<ReturnType<typeof activeUser>>;
  let dave: Awaited<ReturnType<typeof activeUser>>;
  const ids: Record<string, string> = {};
  let foreign: string;

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const eventsOf = (targetId: string, action: string) => db().selectFrom('audit_events').select(['details', 'actor_id']).where('target_id', '=', targetId).where('action', '=', action).orderBy('seq').execute();
  const needsRotation = async (id: string) => (await db().selectFrom('credentials').select('needs_rotation').where('id', '=', id).executeTakeFirstOrThrow()).needs_rotation;
  const checkout = (id: string, token: string, body: object = {}) => call('POST', `/credentials/${id}/checkout`, token, body);
  const checkin = (id: string, token: string) => call('POST', `/credentials/${id}/checkin`, token);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('custody-a');
    other = await t.tenantWithAdmin('custody-b');
    alice = await activeUser(t, admin, 'alice');
    bob = await activeUser(t, admin, 'bob');
    dave = await activeUser(t, admin, 'dave');
    const device = (await call('POST', '/devices', admin.token, { name: 'db01', address: 'db01.acme.internal', port: 5432, protocol: 'postgres' })).json().device;
    for (const name of ['shared', 'short', 'leaver', 'rot-in', 'forced']) {
      const res = await call('POST', '/credentials', admin.token, { deviceId: device.id, username: name, type: 'password', secret: pw(name) });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().credential.id;
    }
    const theirs = (await call('POST', '/devices', other.token, { name: 'theirs', address: '10.9.9.9', port: 22, protocol: 'ssh' })).json().device;
    foreign = (await call('POST', '/credentials', other.token, { deviceId: theirs.id, username: 'shared', type: 'password', secret: pw('foreign') })).json().credential.id;
    const policy = await call('POST', '/access-policies', admin.token, { name: 'Custody', members: { users: [alice.id, bob.id, dave.id] }, actions: { reveal: { mode: 'allow' } } });
    expect(policy.statusCode, policy.body).toBe(201);
    const rotation = await call('POST', '/credential-policies', admin.token, { name: 'Rotate after check-in', filters: { usernames: ['rot-*'] }, rules: { minLength: 8, requireClasses: [], rotateAfterCheckin: true } });
    expect(rotation.statusCode, rotation.body).toBe(201);
  });
  afterAll(async () => t.close());

  it('a checkout is exclusive: it shows the secret to its holder, and a second one or another user\'s reveal answers 409 CREDENTIAL_CHECKED_OUT', async () => {
    const res = await checkout(ids.shared!, alice.token, { minutes: 30 });
    expect(res.statusCode, res.body).toBe(201);
    const now = t.clock.now();
    expect(res.json()).toEqual({
      checkout: { id: expect.any(String), credentialId: ids.shared, userId: alice.id, checkedOutAt: new Date(now).toISOString(), expiresAt: new Date(now + 30 * 60_000).toISOString(), checkedInAt: null, reason: null },
      secret: expect.objectContaining({ credentialId: ids.shared, secret: pw('shared'), version: 1 }),
    });
    for (const token of [alice.token, bob.token]) {
      const again = await checkout(ids.shared!, token);
      expect(again.statusCode, again.body).toBe(409);
      expect(again.json().error.code).toBe('CREDENTIAL_CHECKED_OUT');
    }
    expect((await call('POST', `/credentials/${ids.shared}/reveal`, bob.token, {})).json().error.code).toBe('CREDENTIAL_CHECKED_OUT');
    expect((await call('POST', `/credentials/${ids.shared}/reveal`, alice.token, {})).statusCode).toBe(200);
    const [event] = await eventsOf(ids.shared!, 'credential.checked_out');
    expect(JSON.parse(event!.details as string)).toMatchObject({ checkoutId: res.json().checkout.id, minutes: 30, mode: 'allow' });
    expect(JSON.stringify(event)).not.toContain(pw('shared'));
  });

  it('the database refuses a second active checkout of one credential', async () => {
    const active = await db().selectFrom('credential_checkouts').selectAll().where('active_credential_id', '=', ids.shared!).executeTakeFirstOrThrow();
    await expect(db().insertInto('credential_checkouts').values({ ...active, id: '0190f7b2-0000-7000-8000-00000000abcd', user_id: bob.id }).execute()).rejects.toThrow();
  });

  it('my custody lists my active checkouts; every checkout needs vault.credentials.read', async () => {
    expect((await call('GET', '/checkouts', alice.token)).json().checkouts.map((c: { credentialId: string }) => c.credentialId)).toEqual([ids.shared]);
    expect((await call('GET', '/checkouts?mine=true', bob.token)).json().checkouts).toEqual([]);
    const all = await call('GET', '/checkouts?mine=false', bob.token);
    expect(all.statusCode).toBe(403);
    expect(all.json().error.code).toBe('FORBIDDEN');
    expect((await call('GET', '/checkouts?mine=false', admin.token)).json().checkouts).toHaveLength(1);
    expect((await call('GET', '/checkouts?mine=maybe', admin.token)).statusCode).toBe(400);
    expect((await call('GET', '/checkouts?mine=false', other.token)).json().checkouts).toEqual([]);
  });

  it('check-in by anyone but the holder answers 409 NOT_CHECKED_OUT; the holder checks in (reason returned)', async () => {
    const refused = await checkin(ids.shared!, bob.token);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().error.code).toBe('NOT_CHECKED_OUT');
    const res = await checkin(ids.shared!, alice.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().checkout).toMatchObject({ credentialId: ids.shared, userId: alice.id, checkedInAt: new Date(t.clock.now()).toISOString(), reason: 'returned' });
    expect((await checkin(ids.shared!, alice.token)).json().error.code).toBe('NOT_CHECKED_OUT');
    expect(JSON.parse((await eventsOf(ids.shared!, 'credential.checked_in'))[0]!.details as string)).toMatchObject({ reason: 'returned', holderId: alice.id, rotationFlagged: false });
    expect((await checkout(ids.shared!, bob.token)).statusCode).toBe(201);
    expect((await checkin(ids.shared!, bob.token)).statusCode).toBe(200);
  });

  it("another tenant's credential answers 404 to checkout and check-in", async () => {
    for (const res of [await checkout(foreign, alice.token), await checkin(foreign, alice.token)]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('CREDENTIAL_NOT_FOUND');
    }
  });

  it('bad input (minutes out of range, unknown field) answers 400 and checks nothing out', async () => {
    for (const body of [{ minutes: 0 }, { minutes: 1441 }, { minutes: 1.5 }, { holder: 'me' }]) {
      const res = await checkout(ids.forced!, alice.token, body);
      expect(res.statusCode, res.body).toBe(400);
    }
    expect(await db().selectFrom('credential_checkouts').select('id').where('credential_id', '=', ids.forced!).execute()).toEqual([]);
  });

  it('a credential policy with rotateAfterCheckin flags the credential when it is checked in', async () => {
    expect((await checkout(ids['rot-in']!, alice.token)).statusCode).toBe(201);
    expect(await needsRotation(ids['rot-in']!)).toBe(0);
    expect((await checkin(ids['rot-in']!, alice.token)).statusCode).toBe(200);
    expect(await needsRotation(ids['rot-in']!)).toBe(1);
  });

  it('an administrator forces a checkout back (reason forced); a user may not', async () => {
    const id = (await checkout(ids.forced!, alice.token)).json().checkout.id;
    expect((await call('POST', `/checkouts/${id}/release`, bob.token)).json().error.code).toBe('FORBIDDEN');
    expect((await call('POST', `/checkouts/${id}/release`, other.token)).statusCode).toBe(404);
    const res = await call('POST', `/checkouts/${id}/release`, admin.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().checkout).toMatchObject({ id, reason: 'forced' });
    expect((await call('POST', `/checkouts/${id}/release`, admin.token)).json().error.code).toBe('NOT_CHECKED_OUT');
  });

  it('the expiry job checks in leases that have run out (reason expired) and leaves running ones', async () => {
    const short = (await checkout(ids.short!, alice.token, { minutes: 1 })).json().checkout.id;
    const long = (await checkout(ids.shared!, bob.token, { minutes: 10 })).json().checkout.id;
    const handlers = custodyJobHandlers({ custody: t.runtime.services.custody, log: createLogger({ level: 'silent' }) });
    await handlers['vault.custody-expire']();
    expect((await db().selectFrom('credential_checkouts').select('reason').where('id', '=', short).executeTakeFirstOrThrow()).reason).toBeNull();
    t.clock.advance(2 * 60_000);
    await handlers['vault.custody-expire']();
    const row = await db().selectFrom('credential_checkouts').selectAll().where('id', '=', short).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ reason: 'expired', active_credential_id: null });
    expect((await db().selectFrom('credential_checkouts').select('reason').where('id', '=', long).executeTakeFirstOrThrow()).reason).toBeNull();
    expect((await checkout(ids.short!, bob.token)).statusCode).toBe(201);
    expect((await checkin(ids.short!, bob.token)).statusCode).toBe(200);
    expect((await checkin(ids.shared!, bob.token)).statusCode).toBe(200);
  });

  it("deactivating a user releases their checkouts (reason deactivated) and flags the credentials for rotation", async () => {
    const id = (await checkout(ids.leaver!, dave.token)).json().checkout.id;
    const res = await call('PATCH', `/users/${dave.id}`, admin.token, { status: 'inactive' });
    expect(res.statusCode, res.body).toBe(200);
    const row = await db().selectFrom('credential_checkouts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ reason: 'deactivated', active_credential_id: null });
    expect(await needsRotation(ids.leaver!)).toBe(1);
    const deactivated = await db().selectFrom('audit_events').select('details').where('action', '=', 'user.deactivated').where('target_id', '=', dave.id).executeTakeFirstOrThrow();
    expect(JSON.parse(deactivated.details as string)).toMatchObject({ checkoutsReleased: 1 });
    expect((await checkout(ids.leaver!, alice.token)).statusCode).toBe(201);
  });
});
