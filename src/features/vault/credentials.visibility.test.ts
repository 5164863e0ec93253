import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

type Listed = { credentials: { id: string; username: string; device: { name: string }; access?: { reveal: string | null } }[]; nextCursor: string | null };

describe.each(dialects)('what a plain user sees of the credentials on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let alice: Awaited<ReturnType<typeof activeUser>>;
  let bob: Awaited<ReturnType<typeof activeUser>>;
  let carol: Awaited<ReturnType<typeof activeUser>>;
  const ids: Record<string, string> = {};
  let foreign: string;
  let everything: string;

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  async function made(method: 'POST', url: string, payload: object) {
    const res = await call(method, url, admin.token, payload);
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const list = async (token: string, query = ''): Promise<Listed> => {
    const res = await call('GET', `/credentials${query}`, token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const names = (body: Listed) => body.credentials.map((c) => `${c.device.name}/${c.username}`).sort();

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('vis-a');
    other = await t.tenantWithAdmin('vis-b');
    alice = await activeUser(t, admin, 'alice');
    bob = await activeUser(t, admin, 'bob');
    carol = await activeUser(t, admin, 'carol');
    const ops = (await made('POST', '/groups', { name: 'ops', members: [bob.id] })).group.id;
    const device = async (name: string, extra: object = {}) => (await made('POST', '/devices', { name, address: `${name}.acme.internal`, port: 22, protocol: 'ssh', ...extra })).device.id as string;
    const paris = await device('db-paris-01', { site: 'Paris', type: 'linux', tags: ['prod'] });
    const lyon = await device('db-lyon-01', { site: 'Lyon', type: 'linux' });
    const web = await device('web-01', { site: 'Paris' });
    for (const [deviceId, host, username] of [[paris, 'db-paris-01', 'root'], [paris, 'db-paris-01', 'alice'], [paris, 'db-paris-01', 'bob'], [lyon, 'db-lyon-01', 'root'], [web, 'web-01', 'BOB'], [web, 'web-01', 'deploy']] as const) {
      ids[`${host}/${username}`] = (await made('POST', '/credentials', { deviceId, username, type: 'password' })).credential.id;
    }
    const theirs = (await call('POST', '/devices', other.token, { name: 'db-paris-01', address: '10.9.9.9', port: 22, protocol: 'ssh', site: 'Paris' })).json().device.id;
    foreign = (await call('POST', '/credentials', other.token, { deviceId: theirs, username: 'root', type: 'password' })).json().credential.id;
    await made('POST', '/access-policies', { name: 'paris dbs', members: { users: [alice.id] }, filters: { deviceNames: ['DB-*'], deviceSites: ['paris'] }, actions: { reveal: { mode: 'allow' } } });
    await made('POST', '/access-policies', { name: 'own accounts', members: { groups: [ops] }, filters: { credentialUsernames: ['{user.username}'] }, actions: { reveal: { mode: 'justification' } } });
    everything = (await made('POST', '/access-policies', { name: 'everything (off)', enabled: false, members: { users: [alice.id, carol.id] }, actions: { history: { mode: 'allow' } } })).accessPolicy.id;
  });
  afterAll(async () => t.close());

  it('a plain user lists exactly the credentials a policy grants them, each with how they may reveal it', async () => {
    const body = await list(alice.token);
    expect(names(body)).toEqual(['db-paris-01/alice', 'db-paris-01/bob', 'db-paris-01/root']);
    expect(body.credentials.every((c) => c.access?.reveal === 'allow')).toBe(true);
    expect(body.nextCursor).toBeNull();
    expect(await list(carol.token)).toEqual({ credentials: [], nextCursor: null });
  });

  it('the list filters and the cursor pagination work within what is granted', async () => {
    expect(names(await list(alice.token, '?username=root'))).toEqual(['db-paris-01/root']);
    expect(names(await list(alice.token, '?q=ali'))).toEqual(['db-paris-01/alice']);
    expect(names(await list(alice.token, '?deviceName=db-lyon-01'))).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Listed = await list(alice.token, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.credentials.length).toBeLessThanOrEqual(2);
      seen.push(...names(page));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(['db-paris-01/alice', 'db-paris-01/bob', 'db-paris-01/root']);
  });

  it('a credential no policy grants answers 404 CREDENTIAL_NOT_FOUND, like an unknown id or another tenant\'s', async () => {
    const granted = await call('GET', `/credentials/${ids['db-paris-01/root']}`, alice.token);
    expect(granted.statusCode, granted.body).toBe(200);
    expect(granted.json().credential).toMatchObject({ username: 'root', device: { name: 'db-paris-01' }, access: { reveal: 'allow' } });
    for (const id of [ids['db-lyon-01/root'], ids['web-01/deploy'], foreign, '0190a3c4-0000-7000-8000-000000000000', 'not-an-id']) {
      const res = await call('GET', `/credentials/${id}`, alice.token);
      expect([res.statusCode, res.json().error.code], id).toEqual([404, 'CREDENTIAL_NOT_FOUND']);
    }
  });

  it('a group membership grants, and the {user.username} mask matches the caller\'s own username in any case', async () => {
    const body = await list(bob.token);
    expect(names(body)).toEqual(['db-paris-01/bob', 'web-01/BOB']);
    expect(body.credentials.every((c) => c.access?.reveal === 'justification')).toBe(true);
    expect((await call('GET', `/credentials/${ids['db-paris-01/alice']}`, bob.token)).statusCode).toBe(404);
  });

  it('a disabled policy grants nothing; enabling it shows what it covers (visible without the reveal action)', async () => {
    expect(names(await list(carol.token))).toEqual([]);
    expect((await call('PATCH', `/access-policies/${everything}`, admin.token, { enabled: true })).statusCode).toBe(200);
    const all = await list(carol.token);
    expect(all.credentials).toHaveLength(6);
    expect(all.credentials.every((c) => c.access?.reveal === null)).toBe(true);
    expect((await call('PATCH', `/access-policies/${everything}`, admin.token, { enabled: false })).statusCode).toBe(200);
    expect(await list(carol.token)).toEqual({ credentials: [], nextCursor: null });
    expect((await call('GET', `/credentials/${ids['web-01/deploy']}`, carol.token)).statusCode).toBe(404);
  });

  it('holders of vault.credentials.read (an admin, an auditor) still see every credential of their tenant, without an access field', async () => {
    const auditor = await activeUser(t, admin, 'auditor', ['auditor']);
    for (const token of [admin.token, auditor.token]) {
      const body = await list(token);
      expect(names(body)).toEqual(Object.keys(ids).sort());
      expect(body.credentials.some((c) => 'access' in c)).toBe(false);
      expect((await call('GET', `/credentials/${ids['db-lyon-01/root']}`, token)).statusCode).toBe(200);
      expect((await call('GET', `/credentials/${foreign}`, token)).statusCode).toBe(404);
    }
  });

  it('a caller with neither vault.credentials.read nor vault.credentials.use gets 403 naming both', async () => {
    const securityAdmin = await activeUser(t, admin, 'secadmin', ['security-admin']);
    for (const url of ['/credentials', `/credentials/${ids['db-paris-01/root']}`]) {
      const res = await call('GET', url, securityAdmin.token);
      expect(res.statusCode).toBe(403);
      expect(res.json().error).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('vault.credentials.read, vault.credentials.use') });
    }
  });
});
