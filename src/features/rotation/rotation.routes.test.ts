import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('rotation routes on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let seq = 0;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('rot-a');
    other = await t.tenantWithAdmin('rot-b');
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST', url: string, token = admin.token, payload?: object) => apiCall(t, method, url, token, payload);

  /** A postgres credential with a secret (the target is never dialled here: no worker runs in these tests). */
  async function credential(by = admin, protocol = 'postgres', type = 'password') {
    seq += 1;
    const device = await call('POST', '/devices', by.token, { name: `db-${seq}`, address: '10.0.0.5', port: 5432, protocol });
    expect(device.statusCode, device.body).toBe(201);
    const created = await call('POST', '/credentials', by.token, { deviceId: device.json().device.id, username: `app${seq}`, type, secret: type === 'api-key' ? 'k'.repeat(24) : 'Current-password-1' });
    expect(created.statusCode, created.body).toBe(201);
    return created.json().credential.id as string;
  }

  it('POST /credentials/{id}/rotate answers 202 with the scheduled rotation, which GET /rotations/{id} and the history show', async () => {
    const id = await credential();
    const res = await call('POST', `/credentials/${id}/rotate`);
    expect(res.statusCode, res.body).toBe(202);
    const { rotation } = res.json();
    expect(rotation).toMatchObject({ credentialId: id, trigger: 'manual', state: 'scheduled', step: 'none', attempts: 0, error: null, hasPendingSecret: false, fromVersion: 1, toVersion: null });
    expect((await call('GET', `/rotations/${rotation.id}`)).json()).toEqual({ rotation });
    expect((await call('GET', `/credentials/${id}/rotations`)).json()).toEqual({ rotations: [rotation], nextCursor: null });
    const job = await t.runtime.database.db.selectFrom('jobs').selectAll().where('kind', '=', 'rotation.run').where('tenant_id', '=', admin.id).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    expect(JSON.parse(job.payload)).toEqual({ tenantId: admin.id, rotationId: rotation.id });
    const events = await t.runtime.database.db.selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', admin.id).where('action', '=', 'rotation.scheduled').orderBy('seq').execute();
    expect(events.map((e) => JSON.parse(e.details))).toContainEqual({ rotationId: rotation.id, trigger: 'manual' });
  });

  /** A postgres device with an admin credential and an account that names it as its reconciliation credential. */
  async function reconcilable(by = admin) {
    const adminId = await credential(by);
    const deviceId = (await call('GET', `/credentials/${adminId}`, by.token)).json().credential.device.id as string;
    seq += 1;
    const created = await call('POST', '/credentials', by.token, { deviceId, username: `acct${seq}`, type: 'password', secret: 'Current-password-1', additionalInfo: { reconcileCredentialId: adminId } });
    expect(created.statusCode, created.body).toBe(201);
    return created.json().credential.id as string;
  }

  it('POST /credentials/{id}/reconcile answers 202 with a rotation of trigger reconcile; without a reconciliation credential 400 ROTATION_RECONCILE_NOT_SET', async () => {
    const id = await reconcilable();
    const res = await call('POST', `/credentials/${id}/reconcile`);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json().rotation).toMatchObject({ credentialId: id, trigger: 'reconcile', state: 'scheduled' });
    expect((await call('POST', `/credentials/${id}/reconcile`)).json().error.code).toBe('ROTATION_IN_PROGRESS');
    const plain = await credential();
    const refused = await call('POST', `/credentials/${plain}/reconcile`);
    expect([refused.statusCode, refused.json().error.code]).toEqual([400, 'ROTATION_RECONCILE_NOT_SET']);
    expect((await call('GET', `/credentials/${plain}/rotations`)).json().rotations).toEqual([]);
  });

  it('reconciling needs vault.credentials.rotate; another tenant\'s credential answers 404; a bad id 400', async () => {
    const id = await reconcilable();
    const user = await activeUser(t, admin, `plainrec${seq}`, ['user']);
    expect((await call('POST', `/credentials/${id}/reconcile`, user.token)).statusCode).toBe(403);
    const foreign = await call('POST', `/credentials/${id}/reconcile`, other.token);
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, 'CREDENTIAL_NOT_FOUND']);
    expect((await call('POST', `/credentials/${'x'.repeat(65)}/reconcile`)).statusCode).toBe(400);
    expect((await call('GET', `/credentials/${id}/rotations`)).json().rotations).toEqual([]);
  });

  it('a second request while one is scheduled answers 409 ROTATION_IN_PROGRESS; cancel ends it and only once', async () => {
    const id = await credential();
    const { rotation } = (await call('POST', `/credentials/${id}/rotate`)).json();
    expect((await call('POST', `/credentials/${id}/rotate`)).json().error.code).toBe('ROTATION_IN_PROGRESS');
    const cancelled = await call('POST', `/rotations/${rotation.id}/cancel`);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().rotation).toMatchObject({ state: 'cancelled' });
    const again = await call('POST', `/rotations/${rotation.id}/cancel`);
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'ROTATION_NOT_CANCELLABLE']);
    expect((await call('POST', `/credentials/${id}/rotate`)).statusCode).toBe(202);
  });

  it('GET /credentials/{id}/heartbeat answers null until checked, then the last check', async () => {
    const id = await credential();
    expect((await call('GET', `/credentials/${id}/heartbeat`)).json()).toEqual({ heartbeat: null });
    const at = t.clock.now();
    await t.runtime.database.db.insertInto('credential_heartbeats').values({ tenant_id: admin.id, credential_id: id, status: 'out_of_sync', error_code: null, checked_at: at, changed_at: at }).execute();
    const iso = new Date(at).toISOString();
    expect((await call('GET', `/credentials/${id}/heartbeat`)).json()).toEqual({ heartbeat: { status: 'out_of_sync', errorCode: null, checkedAt: iso, changedAt: iso } });
  });

  it('a credential Custos cannot rotate answers 400 ROTATION_UNSUPPORTED', async () => {
    const id = await credential(admin, 'https', 'api-key');
    const res = await call('POST', `/credentials/${id}/rotate`);
    expect([res.statusCode, res.json().error.code]).toEqual([400, 'ROTATION_UNSUPPORTED']);
  });

  it('rotating needs vault.credentials.rotate and reading needs vault.rotations.read (403 otherwise)', async () => {
    const id = await credential();
    const { rotation } = (await call('POST', `/credentials/${id}/rotate`)).json();
    const user = await activeUser(t, admin, `plain${seq}`, ['user']);
    for (const [method, url] of [['POST', `/credentials/${id}/rotate`], ['GET', `/credentials/${id}/rotations`], ['GET', `/credentials/${id}/heartbeat`], ['GET', `/rotations/${rotation.id}`], ['POST', `/rotations/${rotation.id}/cancel`]] as const) {
      const res = await call(method, url, user.token);
      expect([url, res.statusCode]).toEqual([url, 403]);
    }
    const auditor = await activeUser(t, admin, `auditor${seq}`, ['auditor']);
    expect((await call('GET', `/rotations/${rotation.id}`, auditor.token)).statusCode).toBe(200);
    expect((await call('POST', `/rotations/${rotation.id}/cancel`, auditor.token)).statusCode).toBe(403);
  });

  it("another tenant's credential or rotation answers 404", async () => {
    const id = await credential();
    const { rotation } = (await call('POST', `/credentials/${id}/rotate`)).json();
    expect((await call('POST', `/credentials/${id}/rotate`, other.token)).json().error.code).toBe('CREDENTIAL_NOT_FOUND');
    expect((await call('GET', `/credentials/${id}/rotations`, other.token)).statusCode).toBe(404);
    expect((await call('GET', `/credentials/${id}/heartbeat`, other.token)).statusCode).toBe(404);
    expect((await call('GET', `/rotations/${rotation.id}`, other.token)).json().error.code).toBe('ROTATION_NOT_FOUND');
    const cancel = await call('POST', `/rotations/${rotation.id}/cancel`, other.token);
    expect([cancel.statusCode, cancel.json().error.code]).toEqual([404, 'ROTATION_NOT_FOUND']);
    expect((await call('GET', `/rotations/${rotation.id}`)).json().rotation.state).toBe('scheduled');
  });

  it('bad input answers 400 with a code: an id too long, a cursor that is not one, a limit out of range', async () => {
    const id = await credential();
    const long = await call('POST', `/credentials/${'x'.repeat(65)}/rotate`);
    expect(long.statusCode).toBe(400);
    expect(long.json().error.code).toEqual(expect.any(String));
    const cursor = await call('GET', `/credentials/${id}/rotations?cursor=nope`);
    expect([cursor.statusCode, typeof cursor.json().error.code]).toEqual([400, 'string']);
    expect((await call('GET', `/credentials/${id}/rotations?limit=1000`)).statusCode).toBe(400);
    // A well-formed id that names nothing is a 404, not a 400.
    expect((await call('GET', '/rotations/not-an-id')).statusCode).toBe(404);
  });
});
