import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('credential search, filters and pagination on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  const ids: Record<string, string> = {};
  let owner: { id: string };
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('credf-a');
    const other = await t.tenantWithAdmin('credf-b');
    owner = await activeUser(t, admin, 'credf-owner');
    const device = async (token: string, body: object) => (await apiCall(t, 'POST', '/devices', token, body)).json().device.id as string;
    ids.pg = await device(admin.token, { name: 'pg-lis', address: '10.0.0.1', port: 5432, protocol: 'postgres', site: 'lisbon', type: 'database', tags: ['prod', 'pci'] });
    ids.web = await device(admin.token, { name: 'web-por', address: 'web.porto.internal', port: 22, protocol: 'ssh', site: 'porto', type: 'server', tags: ['prod'] });
    ids.lab = await device(admin.token, { name: 'lab', address: 'lab.internal', port: 22, protocol: 'ssh', type: 'server', tags: ['dev'] });
    const credentials = [
      ['postgres', { deviceId: ids.pg, username: 'postgres', type: 'password', tags: ['dba', 'break-glass'], ownerId: owner.id, notes: 'Superuser of the ledger' }],
      ['pgApp', { deviceId: ids.pg, username: 'app', type: 'api-key', tags: ['dba'] }],
      ['webRoot', { deviceId: ids.web, username: 'root', type: 'ssh-key', tags: ['break-glass'], status: 'inactive' }],
      ['webDeploy', { deviceId: ids.web, username: 'deploy', type: 'ssh-key', ownerId: owner.id }],
      ['labRoot', { deviceId: ids.lab, username: 'root', type: 'password', notes: 'Shared lab account' }],
    ] as const;
    for (const [key, body] of credentials) {
      const res = await apiCall(t, 'POST', '/credentials', admin.token, body);
      expect(res.statusCode, res.body).toBe(201);
      ids[key] = res.json().credential.id;
    }
    expect((await apiCall(t, 'PATCH', `/credentials/${ids.labRoot}`, admin.token, { needsRotation: true })).statusCode).toBe(200);
    // Another tenant's credential matches many of the same filters and must never show up.
    const theirs = await device(other.token, { name: 'pg-lis', address: '10.0.0.1', port: 5432, protocol: 'postgres', site: 'lisbon', type: 'database', tags: ['prod'] });
    expect((await apiCall(t, 'POST', '/credentials', other.token, { deviceId: theirs, username: 'postgres', type: 'password', tags: ['dba'] })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  const names = async (query: string) => {
    const res = await apiCall(t, 'GET', `/credentials?${query}`, admin.token);
    expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
    return res.json().credentials.map((c: { device: { name: string }; username: string }) => `${c.device.name}/${c.username}`);
  };
  const all = ['pg-lis/postgres', 'pg-lis/app', 'web-por/root', 'web-por/deploy', 'lab/root'];

  it('lists every credential of the tenant oldest first, with device summary, tags and owner from batch reads', async () => {
    expect(await names('')).toEqual(all);
    const [first] = (await apiCall(t, 'GET', '/credentials?limit=1', admin.token)).json().credentials;
    expect(first).toMatchObject({ device: { id: ids.pg, name: 'pg-lis' }, tags: ['break-glass', 'dba'], owner: { id: owner.id, username: 'credf-owner' } });
  });

  it('filters by each credential and device attribute, alone and combined', async () => {
    const cases: [string, string[]][] = [
      [`deviceId=${ids.web}`, ['web-por/root', 'web-por/deploy']],
      ['deviceName=lab', ['lab/root']],
      ['site=lisbon', ['pg-lis/postgres', 'pg-lis/app']],
      ['deviceType=server', ['web-por/root', 'web-por/deploy', 'lab/root']],
      ['deviceTag=prod', ['pg-lis/postgres', 'pg-lis/app', 'web-por/root', 'web-por/deploy']],
      ['deviceTag=prod,pci', ['pg-lis/postgres', 'pg-lis/app']],
      ['username=root', ['web-por/root', 'lab/root']],
      ['type=ssh-key', ['web-por/root', 'web-por/deploy']],
      ['type=api-key', ['pg-lis/app']],
      ['tag=dba', ['pg-lis/postgres', 'pg-lis/app']],
      ['tag=dba&tag=break-glass', ['pg-lis/postgres']],
      ['tag=break-glass', ['pg-lis/postgres', 'web-por/root']],
      ['status=inactive', ['web-por/root']],
      ['status=active', ['pg-lis/postgres', 'pg-lis/app', 'web-por/deploy', 'lab/root']],
      [`ownerId=${owner.id}`, ['pg-lis/postgres', 'web-por/deploy']],
      ['ownerId=00000000-0000-7000-8000-000000000000', []],
      ['needsRotation=true', ['lab/root']],
      ['needsRotation=false', ['pg-lis/postgres', 'pg-lis/app', 'web-por/root', 'web-por/deploy']],
      ['username=root&deviceType=server&status=active', ['lab/root']],
      ['tag=break-glass&deviceTag=prod&type=password', ['pg-lis/postgres']],
    ];
    for (const [query, expected] of cases) expect(await names(query), query).toEqual(expected);
  });

  it('q searches username, device name and address, and notes, case-insensitively', async () => {
    expect(await names('q=ROOT')).toEqual(['web-por/root', 'lab/root']);
    expect(await names('q=pg-lis')).toEqual(['pg-lis/postgres', 'pg-lis/app']);
    expect(await names('q=porto.internal')).toEqual(['web-por/root', 'web-por/deploy']);
    expect(await names('q=ledger')).toEqual(['pg-lis/postgres']);
    expect(await names('q=shared&needsRotation=true')).toEqual(['lab/root']);
    expect(await names('q=nothing-like-this')).toEqual([]);
  });

  it('pages with limit and nextCursor through every credential exactly once, with filters kept across pages', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const body: { credentials: { device: { name: string }; username: string }[]; nextCursor: string | null } = (await apiCall(t, 'GET', `/credentials?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin.token)).json();
      expect(body.credentials.length).toBeLessThanOrEqual(2);
      seen.push(...body.credentials.map((c) => `${c.device.name}/${c.username}`));
      cursor = body.nextCursor;
    } while (cursor && seen.length < 20);
    expect(seen).toEqual(all);
    const first = (await apiCall(t, 'GET', '/credentials?deviceType=server&limit=2', admin.token)).json();
    expect(first.nextCursor).toBe(first.credentials[1].id);
    expect((await apiCall(t, 'GET', `/credentials?deviceType=server&limit=2&cursor=${first.nextCursor}`, admin.token)).json()).toMatchObject({ credentials: [{ username: 'root', device: { name: 'lab' } }], nextCursor: null });
  });

  it('bad filters are 400 VALIDATION_FAILED', async () => {
    for (const query of ['type=certificate', 'status=gone', 'needsRotation=yes', 'tag=a%20b', 'deviceTag=', 'limit=0', 'limit=101', 'cursor=abc', 'unknown=1', 'q=']) {
      const res = await apiCall(t, 'GET', `/credentials?${query}`, admin.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
  });
});
