import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

const SEED = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
/** A password the default credential policy accepts (20+ characters, every class, its symbols), unique per label. */
const pw = (label: string) => `Pw_${label}_Aa1-2026-xyz:=`;

describe.each(dialects)('credentials on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let device: { id: string; name: string };
  let spare: { id: string; name: string };
  let foreignDevice: { id: string };
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('cred-a');
    other = await t.tenantWithAdmin('cred-b');
    device = (await call('POST', '/devices', admin.token, { name: 'db01', address: 'db01.acme.internal', port: 5432, protocol: 'postgres' })).json().device;
    spare = (await call('POST', '/devices', admin.token, { name: 'app01', address: 'app01.acme.internal', port: 22, protocol: 'ssh' })).json().device;
    foreignDevice = (await call('POST', '/devices', other.token, { name: 'theirs', address: '10.9.9.9', port: 22, protocol: 'ssh' })).json().device;
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, token = admin.token, payload?: object) => apiCall(t, method, url, token, payload);
  async function create(body: object, token = admin.token) {
    const res = await call('POST', '/credentials', token, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().credential;
  }
  const db = () => t.runtime.database.db;
  const counts = async (tenantId = admin.id) => {
    const n = async (table: 'credentials' | 'credential_versions' | 'credential_tags' | 'audit_events') => Number((await db().selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow()).n);
    return { credentials: await n('credentials'), versions: await n('credential_versions'), tags: await n('credential_tags'), events: await n('audit_events') };
  };
  const events = (targetId: string) => db().selectFrom('audit_events').select(['action', 'details', 'actor_id', 'type_id', 'category']).where('target_id', '=', targetId).orderBy('seq').execute();

  it('creates a credential without a secret (version 0) and with one (version 1); the answer shows facts, never the secret', async () => {
    const owner = await activeUser(t, admin, 'cred-owner');
    const bare = await create({ deviceId: device.id, username: 'readonly', type: 'password' });
    expect(bare).toEqual({
      id: expect.any(String), device: { id: device.id, name: 'db01' }, username: 'readonly', type: 'password', hasSecret: false, hasPassphrase: false, hasTotp: false, version: 0, secretChangedAt: null,
      needsRotation: false, tags: [], owner: null, notes: null, additionalInfo: {}, status: 'active', createdAt: expect.any(String), updatedAt: bare.createdAt,
    });
    const secret = 'S3cret-value-for-postgres!';
    const res = await call('POST', '/credentials', admin.token, { deviceId: device.id, username: 'postgres', type: 'password', secret, totpSeed: 'jbsw y3dp ehpk 3pxp', tags: ['DBA', 'prod'], ownerId: owner.id, notes: 'Break-glass superuser', additionalInfo: { database: 'sales' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.body).not.toContain(secret);
    expect(res.json().credential).toMatchObject({ hasSecret: true, hasTotp: true, version: 1, secretChangedAt: res.json().credential.createdAt, tags: ['dba', 'prod'], owner: { id: owner.id, username: 'cred-owner' }, notes: 'Break-glass superuser', additionalInfo: { database: 'sales' } });
    const got = await call('GET', `/credentials/${res.json().credential.id}`);
    expect(got.json()).toEqual(res.json());
    expect(got.body).not.toContain(secret);
  });

  it('stores an ssh private key with its passphrase; a public key is refused with a clear message', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'key passphrase' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const key = await create({ deviceId: spare.id, username: 'deploy', type: 'ssh-key', secret: privateKey, passphrase: 'key passphrase' });
    expect(key).toMatchObject({ type: 'ssh-key', hasSecret: true, hasPassphrase: true, version: 1 });
    const pub = await call('POST', '/credentials', admin.token, { deviceId: spare.id, username: 'pub', type: 'ssh-key', secret: publicKey });
    expect(pub.statusCode).toBe(400);
    expect(pub.json().error).toMatchObject({ code: 'SSH_KEY_IS_PUBLIC', message: expect.stringContaining('Store the private key') });
    const wrong = await call('POST', '/credentials', admin.token, { deviceId: spare.id, username: 'wrong', type: 'ssh-key', secret: privateKey, passphrase: 'not it' });
    expect(wrong.json().error.code).toBe('SSH_KEY_PASSPHRASE_WRONG');
  });

  it('(deviceId, username) is unique: 409 CREDENTIAL_EXISTS on create, PATCH and PUT; the same username on another device is fine', async () => {
    const first = await create({ deviceId: device.id, username: 'dup', type: 'password' });
    const again = await call('POST', '/credentials', admin.token, { deviceId: device.id, username: 'dup', type: 'api-key' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: 'CREDENTIAL_EXISTS', message: expect.stringContaining('db01 already has a credential for dup') });
    const elsewhere = await create({ deviceId: spare.id, username: 'dup', type: 'password' });
    const moved = await call('PATCH', `/credentials/${elsewhere.id}`, admin.token, { deviceId: device.id });
    expect(moved.json().error.code).toBe('CREDENTIAL_EXISTS');
    const renamed = await call('PUT', `/credentials/${elsewhere.id}`, admin.token, { deviceId: spare.id, username: 'dup2', type: 'password' });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect((await call('PUT', `/credentials/${renamed.json().credential.id}`, admin.token, { deviceId: device.id, username: 'dup', type: 'password' })).json().error.code).toBe('CREDENTIAL_EXISTS');
    expect((await call('GET', `/credentials/${first.id}`)).json().credential.username).toBe('dup');
  });

  it('PATCH changes the fields sent; null removes owner, notes or TOTP seed; a no-op writes nothing; PUT resets omitted attributes and keeps secrets', async () => {
    const owner = await activeUser(t, admin, 'cred-patch-owner');
    const item = await create({ deviceId: device.id, username: 'patchy', type: 'password', secret: pw('first'), totpSeed: SEED, tags: ['a'], ownerId: owner.id, notes: 'n', additionalInfo: { database: 'x' } });
    t.clock.advance(1000);
    const moved = (await call('PATCH', `/credentials/${item.id}`, admin.token, { deviceId: spare.id, notes: null, ownerId: null, tags: ['b', 'c'], status: 'inactive', needsRotation: true })).json().credential;
    expect(moved).toEqual({ ...item, device: { id: spare.id, name: 'app01' }, notes: null, owner: null, tags: ['b', 'c'], status: 'inactive', needsRotation: true, updatedAt: new Date(Date.parse(item.createdAt) + 1000).toISOString() });
    const noSeed = (await call('PATCH', `/credentials/${item.id}`, admin.token, { totpSeed: null })).json().credential;
    expect(noSeed).toMatchObject({ hasTotp: false, version: 1, hasSecret: true });
    const before = await counts();
    expect((await call('PATCH', `/credentials/${item.id}`, admin.token, { status: 'inactive', totpSeed: null, tags: ['c', 'b'] })).json().credential).toEqual(noSeed);
    expect(await counts()).toEqual(before);
    const put = (await call('PUT', `/credentials/${item.id}`, admin.token, { deviceId: spare.id, username: 'patchy', type: 'password' })).json().credential;
    expect(put).toMatchObject({ tags: [], owner: null, notes: null, additionalInfo: {}, status: 'active', hasSecret: true, version: 1 });
  });

  it('changing the type needs a new secret of that type; a passphrase needs its key; only ssh keys have one', async () => {
    const item = await create({ deviceId: device.id, username: 'typed', type: 'password', secret: pw('apassword') });
    const cases: [object, string][] = [
      [{ type: 'api-key' }, 'SECRET_REQUIRED'],
      [{ passphrase: 'lonely' }, 'PASSPHRASE_NEEDS_SECRET'],
      [{ secret: pw('newpassword'), passphrase: 'nope' }, 'PASSPHRASE_NOT_ALLOWED'],
      [{ type: 'ssh-key', secret: 'not a key' }, 'SSH_KEY_INVALID'],
      [{ type: 'api-key', secret: 'short' }, 'SECRET_TOO_SHORT'],
    ];
    const before = await counts();
    for (const [patch, code] of cases) {
      const res = await call('PATCH', `/credentials/${item.id}`, admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code, JSON.stringify(patch)).toBe(code);
    }
    expect(await counts()).toEqual(before);
    const changed = (await call('PATCH', `/credentials/${item.id}`, admin.token, { type: 'api-key', secret: 'ak_0123456789abcdef' })).json().credential;
    expect(changed).toMatchObject({ type: 'api-key', version: 2 });
  });

  it('bad input gets 400 with a code and writes nothing', async () => {
    const before = await counts();
    const valid = { deviceId: device.id, username: 'someone', type: 'password' };
    const cases: [object, string, string?][] = [
      [{ ...valid, extra: 1 }, 'VALIDATION_FAILED'],
      [{ ...valid, type: 'certificate' }, 'VALIDATION_FAILED', 'type is one of: password, ssh-key, api-key'],
      [{ ...valid, username: '' }, 'VALIDATION_FAILED', 'username is the account on the device'],
      [{ ...valid, username: 'a\nb' }, 'VALIDATION_FAILED', 'control characters'],
      [{ ...valid, secret: '' }, 'VALIDATION_FAILED', 'secret cannot be empty'],
      [{ ...valid, secret: 'x'.repeat(16385) }, 'VALIDATION_FAILED', 'at most 16384'],
      [{ ...valid, secret: 'x'.repeat(1025) }, 'SECRET_TOO_LONG'],
      [{ ...valid, secret: 'line\nbreak' }, 'SECRET_INVALID'],
      [{ ...valid, type: 'api-key', secret: 'has space in it' }, 'SECRET_INVALID'],
      [{ ...valid, type: 'api-key', secret: 'x'.repeat(8193) }, 'SECRET_TOO_LONG'],
      [{ ...valid, totpSeed: 'not base32!' }, 'VALIDATION_FAILED', 'totpSeed must be base32'],
      [{ ...valid, totpSeed: 'ABCDEFGH' }, 'VALIDATION_FAILED', 'totpSeed must be base32'],
      [{ ...valid, additionalInfo: { password: 'hunter2' } }, 'VALIDATION_FAILED', 'never in additionalInfo'],
      [{ ...valid, additionalInfo: { database: 42 } }, 'VALIDATION_FAILED'],
      [{ ...valid, additionalInfo: { 'bad key': 'x' } }, 'VALIDATION_FAILED', 'an additionalInfo key'],
      [{ ...valid, additionalInfo: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'VALIDATION_FAILED', 'at most 50 entries'],
      [{ ...valid, tags: ['no spaces'] }, 'VALIDATION_FAILED', 'A tag is letters'],
      [{ ...valid, notes: 'x'.repeat(4001) }, 'VALIDATION_FAILED'],
      [{ ...valid, status: 'retired' }, 'VALIDATION_FAILED'],
      [{ ...valid, passphrase: 'p' }, 'PASSPHRASE_NEEDS_SECRET'],
      [{ ...valid, ownerId: 'not-an-id' }, 'OWNER_NOT_FOUND'],
      [{ ...valid, deviceId: 'not-an-id' }, 'DEVICE_NOT_FOUND'],
      [{ username: 'x', type: 'password' }, 'VALIDATION_FAILED'],
    ];
    for (const [payload, code, message] of cases) {
      const res = await call('POST', '/credentials', admin.token, payload);
      expect(res.json().error?.code, JSON.stringify(payload).slice(0, 200)).toBe(code);
      expect(res.statusCode).toBe(code === 'DEVICE_NOT_FOUND' ? 404 : 400);
      if (message) expect(res.json().error.message).toContain(message);
    }
    const item = await create({ deviceId: device.id, username: 'validated', type: 'password' });
    const mid = await counts();
    for (const patch of [{}, { username: null }, { secret: null }, { needsRotation: 'yes' }, { version: 5 }]) {
      const res = await call('PATCH', `/credentials/${item.id}`, admin.token, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await call('POST', `/credentials/${item.id}/secret`, admin.token, {})).json().error.code).toBe('VALIDATION_FAILED');
    expect(await counts()).toEqual(mid);
    expect(mid.credentials).toBe(before.credentials + 1);
  });

  it("another tenant's credential ids answer 404 on every route; its devices and users cannot be referenced", async () => {
    const mine = await create({ deviceId: device.id, username: 'private', type: 'password', secret: pw('private'), totpSeed: SEED });
    const theirUser = await activeUser(t, other, 'their-user');
    const before = { mine: await counts(), theirs: await counts(other.id) };
    const routes = [
      ['GET', ''], ['PATCH', '', { notes: 'x' }], ['PUT', '', { deviceId: foreignDevice.id, username: 'x', type: 'password' }], ['DELETE', ''], ['POST', '/secret', { secret: pw('newone') }],
      ['GET', '/history'], ['POST', '/history/1/reveal', { justification: 'ticket 1234' }], ['GET', '/totp'],
    ] as const;
    for (const id of [mine.id, 'not-an-id', '00000000-0000-7000-8000-000000000000']) {
      for (const [method, suffix, payload] of routes) {
        const res = await call(method, `/credentials/${id}${suffix}`, other.token, payload);
        expect(res.statusCode, `${method} ${id}${suffix}`).toBe(404);
        expect(res.json().error.code).toBe('CREDENTIAL_NOT_FOUND');
      }
    }
    const onForeign = await call('POST', '/credentials', admin.token, { deviceId: foreignDevice.id, username: 'x', type: 'password' });
    expect([onForeign.statusCode, onForeign.json().error.code]).toEqual([404, 'DEVICE_NOT_FOUND']);
    expect((await call('PATCH', `/credentials/${mine.id}`, admin.token, { deviceId: foreignDevice.id })).json().error.code).toBe('DEVICE_NOT_FOUND');
    const foreignOwner = await call('POST', '/credentials', admin.token, { deviceId: device.id, username: 'y', type: 'password', ownerId: theirUser.id });
    expect([foreignOwner.statusCode, foreignOwner.json().error.code]).toEqual([400, 'OWNER_NOT_FOUND']);
    expect((await call('PATCH', `/credentials/${mine.id}`, admin.token, { ownerId: theirUser.id })).json().error.code).toBe('OWNER_NOT_FOUND');
    expect((await call('GET', `/credentials?deviceId=${device.id}`, other.token)).json().credentials).toEqual([]);
    expect({ mine: await counts(), theirs: await counts(other.id) }).toEqual(before);
    expect((await call('GET', `/credentials/${mine.id}`)).json().credential).toEqual(mine);
  });

  it('a security-admin gets 403 on every route, a plain user on all but the list (empty) and the get (404) of what no policy grants; an auditor reads, sees history and TOTP, but cannot write or reveal', async () => {
    const target = await create({ deviceId: device.id, username: 'guarded', type: 'password', secret: pw('guarded1'), totpSeed: SEED });
    await call('POST', `/credentials/${target.id}/secret`, admin.token, { secret: pw('guarded2') });
    const plain = await activeUser(t, admin, 'cred-plain');
    const securityAdmin = await activeUser(t, admin, 'cred-secadmin', ['security-admin']);
    const auditor = await activeUser(t, admin, 'cred-auditor', ['auditor']);
    const reads = [['GET', '/credentials'], ['GET', `/credentials/${target.id}`], ['GET', `/credentials/${target.id}/history`], ['GET', `/credentials/${target.id}/totp`]] as const;
    const writes = [
      ['POST', '/credentials', { deviceId: device.id, username: 'sneaky', type: 'password' }], ['PATCH', `/credentials/${target.id}`, { notes: 'x' }],
      ['PUT', `/credentials/${target.id}`, { deviceId: device.id, username: 'guarded', type: 'password' }], ['DELETE', `/credentials/${target.id}`], ['POST', `/credentials/${target.id}/secret`, { secret: pw('minenow') }],
    ] as const;
    const reveal = ['POST', `/credentials/${target.id}/history/1/reveal`, { justification: 'ticket 1234' }] as const;
    const before = await counts();
    // A plain user holds vault.credentials.use: the list and the get answer what access policies grant, here nothing.
    expect((await call('GET', '/credentials', plain.token)).json()).toEqual({ credentials: [], nextCursor: null });
    expect((await call('GET', `/credentials/${target.id}`, plain.token)).json().error.code).toBe('CREDENTIAL_NOT_FOUND');
    for (const caller of [plain, securityAdmin]) {
      for (const [method, url, payload] of [...reads, ...writes, reveal]) {
        if (caller === plain && method === 'GET' && (url === '/credentials' || url === `/credentials/${target.id}`)) continue;
        const res = await call(method, url, caller.token, payload);
        expect(res.statusCode, `${caller.username} ${method} ${url}`).toBe(403);
        const permission = url.endsWith('/reveal') ? 'vault.credential-history.reveal' : method === 'GET' ? 'vault.credentials.read' : 'vault.credentials.write';
        expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining(permission) });
      }
    }
    expect(await counts()).toEqual(before);
    for (const [method, url] of reads) expect((await call(method, url, auditor.token)).statusCode, url).toBe(200);
    for (const [method, url, payload] of [...writes, reveal]) expect((await call(method, url, auditor.token, payload)).statusCode, url).toBe(403);
    const vaultAdmin = await activeUser(t, admin, 'cred-vault-admin', ['vault-admin']);
    expect((await call(...reveal.slice(0, 2) as ['POST', string], vaultAdmin.token, reveal[2])).statusCode).toBe(200);
  });

  it("deleting a user clears their ownership of credentials (deactivating keeps it); the credential stays", async () => {
    const owner = await activeUser(t, admin, 'leaver');
    const owned = await create({ deviceId: spare.id, username: 'owned-1', type: 'password', ownerId: owner.id });
    expect((await call('PATCH', `/users/${owner.id}`, admin.token, { status: 'inactive' })).statusCode).toBe(200);
    expect((await call('GET', `/credentials/${owned.id}`)).json().credential.owner).toEqual({ id: owner.id, username: 'leaver' });
    expect((await call('DELETE', `/users/${owner.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/credentials/${owned.id}`)).json().credential.owner).toBeNull();
    const row = await db().selectFrom('credentials').select('owner_id').where('tenant_id', '=', admin.id).where('id', '=', owned.id).executeTakeFirstOrThrow();
    expect(row.owner_id).toBeNull();
    expect((await call('GET', `/credentials?ownerId=${owner.id}`)).json().credentials).toEqual([]);
  });

  it('DELETE removes the credential, its versions and tags, audited; the account can be added again', async () => {
    const item = await create({ deviceId: spare.id, username: 'temp', type: 'password', secret: pw('one'), tags: ['x', 'y'] });
    await call('POST', `/credentials/${item.id}/secret`, admin.token, { secret: pw('two') });
    const before = await counts();
    const res = await call('DELETE', `/credentials/${item.id}`);
    expect([res.statusCode, res.body]).toEqual([204, '']);
    expect((await call('GET', `/credentials/${item.id}`)).json().error.code).toBe('CREDENTIAL_NOT_FOUND');
    expect(await counts()).toEqual({ credentials: before.credentials - 1, versions: before.versions - 2, tags: before.tags - 2, events: before.events + 1 });
    expect(JSON.parse((await events(item.id)).at(-1)!.details)).toEqual({ deviceId: spare.id, device: 'app01', username: 'temp', versions: 2 });
    await create({ deviceId: spare.id, username: 'temp', type: 'password' });
  });

  it('every change writes its vault audit event with details that never carry a secret', async () => {
    const secret = pw('audit1');
    const item = await create({ deviceId: device.id, username: 'audited', type: 'password', secret, totpSeed: SEED });
    await call('PATCH', `/credentials/${item.id}`, admin.token, { notes: 'changed', tags: ['t'], secret: pw('audit2') });
    await call('POST', `/credentials/${item.id}/secret`, admin.token, { secret: pw('audit3') });
    const self = (await call('GET', '/auth/me')).json().user.id;
    expect((await events(item.id)).map((e) => [e.action, e.type_id, e.category, JSON.parse(e.details), e.actor_id])).toEqual([
      ['credential.created', 5101, 'vault', { deviceId: device.id, device: 'db01', username: 'audited', type: 'password', hasTotp: true }, self],
      ['credential.secret.changed', 5104, 'vault', { version: 1, reason: 'created' }, self],
      ['credential.updated', 5102, 'vault', { fields: ['notes', 'tags'] }, self],
      ['credential.secret.changed', 5104, 'vault', { version: 2, reason: 'manual' }, self],
      ['credential.secret.changed', 5104, 'vault', { version: 3, reason: 'manual' }, self],
    ]);
    const all = await db().selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).orderBy('seq').execute();
    expect(all.filter((e) => e.details.includes('_audit') || e.details.includes(SEED))).toEqual([]);
    expect(await t.runtime.audit.verify(db(), admin.id)).toMatchObject({ ok: true });
  });

  it('the routes are documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths['/api/v1/credentials'])).toEqual(expect.arrayContaining(['get', 'post']));
    expect(Object.keys(doc.paths['/api/v1/credentials/{id}'])).toEqual(expect.arrayContaining(['get', 'put', 'patch', 'delete']));
    for (const path of ['/api/v1/credentials/{id}/secret', '/api/v1/credentials/{id}/history', '/api/v1/credentials/{id}/history/{version}/reveal', '/api/v1/credentials/{id}/totp']) expect(doc.paths[path], path).toBeDefined();
    expect(doc.paths['/api/v1/credentials'].post.requestBody.content['application/json'].schema.required).toEqual(['deviceId', 'username', 'type']);
    expect(JSON.stringify(doc.paths['/api/v1/credentials/{id}'].get.responses)).not.toMatch(/"secret"|"passphrase"|"totpSeed"/);
  });
});
