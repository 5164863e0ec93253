import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { apiCall } from '../../../test/support/users.js';

describe.each(dialects)('device search, filters and pagination on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('devf-a');
    const other = await t.tenantWithAdmin('devf-b');
    const fleet = [
      { name: 'pg-lis-1', address: '10.0.1.1', port: 5432, protocol: 'postgres', protocols: [{ protocol: 'ssh', port: 22 }], type: 'database', vendor: 'PostgreSQL', model: '16', site: 'lisbon', tags: ['prod', 'pci'], criticality: 'high', description: 'Payments ledger' },
      { name: 'pg-por-1', address: 'pg.porto.acme.internal', port: 5432, protocol: 'postgres', type: 'database', vendor: 'PostgreSQL', model: '15', site: 'porto', tags: ['prod'] },
      { name: 'win-lis-1', address: '10.0.1.7', port: 3389, protocol: 'rdp', protocols: [{ protocol: 'winrm', port: 5986 }], type: 'server', vendor: 'Microsoft', model: 'Server 2022', site: 'lisbon', tags: ['dev'], criticality: 'low', status: 'inactive' },
      { name: 'fw-edge', address: 'fd00::1', port: 22, protocol: 'ssh', protocols: [{ protocol: 'https', port: 443 }], type: 'firewall', vendor: 'Fortinet', model: 'FG-100F', site: 'porto', tags: ['prod', 'edge'] },
      { name: 'lab-box', address: 'lab.acme.internal', port: 22, protocol: 'ssh', type: 'server', vendor: 'Dell', description: 'Anything goes' },
    ];
    for (const body of fleet) expect((await apiCall(t, 'POST', '/devices', admin.token, body)).statusCode).toBe(201);
    // Another tenant's device matches many of the same filters and must never show up.
    expect((await apiCall(t, 'POST', '/devices', other.token, { ...fleet[0], name: 'other-pg' })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  const names = async (query: string) => {
    const res = await apiCall(t, 'GET', `/devices?${query}`, admin.token);
    expect(res.statusCode, `${query}: ${res.body}`).toBe(200);
    return res.json().devices.map((d: { name: string }) => d.name);
  };

  it('lists every device of the tenant oldest first', async () => {
    expect(await names('')).toEqual(['pg-lis-1', 'pg-por-1', 'win-lis-1', 'fw-edge', 'lab-box']);
  });

  it('filters by each attribute, alone and combined', async () => {
    const cases: [string, string[]][] = [
      ['protocol=postgres', ['pg-lis-1', 'pg-por-1']],
      ['protocol=ssh', ['pg-lis-1', 'fw-edge', 'lab-box']],
      ['protocol=winrm', ['win-lis-1']],
      ['protocol=mysql', []],
      ['type=database', ['pg-lis-1', 'pg-por-1']],
      ['type=server', ['win-lis-1', 'lab-box']],
      ['vendor=PostgreSQL', ['pg-lis-1', 'pg-por-1']],
      ['vendor=Dell', ['lab-box']],
      ['model=FG-100F', ['fw-edge']],
      ['site=lisbon', ['pg-lis-1', 'win-lis-1']],
      ['address=10.0.1.7', ['win-lis-1']],
      ['address=PG.Porto.acme.internal', ['pg-por-1']],
      ['criticality=high', ['pg-lis-1']],
      ['criticality=medium', ['pg-por-1', 'fw-edge', 'lab-box']],
      ['status=inactive', ['win-lis-1']],
      ['status=active', ['pg-lis-1', 'pg-por-1', 'fw-edge', 'lab-box']],
      ['tag=prod', ['pg-lis-1', 'pg-por-1', 'fw-edge']],
      ['tag=prod&tag=pci', ['pg-lis-1']],
      ['tag=prod,edge', ['fw-edge']],
      ['tag=prod,edge&tag=pci', []],
      ['tag=PROD', ['pg-lis-1', 'pg-por-1', 'fw-edge']],
      ['site=porto&protocol=ssh', ['fw-edge']],
      ['type=database&site=porto&tag=prod', ['pg-por-1']],
    ];
    for (const [query, expected] of cases) expect(await names(query), query).toEqual(expected);
  });

  it('q searches name, address, vendor, model and description, case-insensitively', async () => {
    expect(await names('q=LIS')).toEqual(['pg-lis-1', 'win-lis-1']);
    expect(await names('q=porto.acme')).toEqual(['pg-por-1']);
    expect(await names('q=fortinet')).toEqual(['fw-edge']);
    expect(await names('q=server%202022')).toEqual(['win-lis-1']);
    expect(await names('q=ledger')).toEqual(['pg-lis-1']);
    expect(await names('q=ledger&site=porto')).toEqual([]);
    expect(await names('q=nothing-like-this')).toEqual([]);
  });

  it('pages with limit and nextCursor through every device exactly once; the last page says null', async () => {
    const seen: string[] = [];
    let url = '/devices?limit=2';
    for (let page = 0; page < 10; page += 1) {
      const body = (await apiCall(t, 'GET', url, admin.token)).json();
      seen.push(...body.devices.map((d: { name: string }) => d.name));
      expect(body.devices.length).toBeLessThanOrEqual(2);
      if (!body.nextCursor) break;
      url = `/devices?limit=2&cursor=${body.nextCursor}`;
    }
    expect(seen).toEqual(await names(''));
    const filtered = (await apiCall(t, 'GET', '/devices?tag=prod&limit=2', admin.token)).json();
    expect(filtered.devices.map((d: { name: string }) => d.name)).toEqual(['pg-lis-1', 'pg-por-1']);
    const rest = (await apiCall(t, 'GET', `/devices?tag=prod&limit=2&cursor=${filtered.nextCursor}`, admin.token)).json();
    expect(rest).toMatchObject({ devices: [{ name: 'fw-edge' }], nextCursor: null });
  });

  it('bad filters are 400 VALIDATION_FAILED', async () => {
    for (const query of ['protocol=gopher', 'criticality=extreme', 'status=gone', 'tag=a%20b', 'limit=0', 'limit=101', 'cursor=not-a-cursor', 'unknown=1', 'q=', 'address=not%20an%20address', `tag=${Array.from({ length: 11 }, (_, i) => `t${i}`).join(',')}`]) {
      const res = await apiCall(t, 'GET', `/devices?${query}`, admin.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
  });
});
