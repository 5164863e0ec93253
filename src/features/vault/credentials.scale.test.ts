import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import type { CredentialTable, DeviceTable } from '../../platform/db/schema.js';
import { newId } from '../../platform/ids.js';

const DEVICES = 2_000;
const CREDENTIALS = 100_000;
// Generous for a shared 2-core machine: an index walk answers in a few milliseconds, a full scan of 100,000 rows
// joined to their devices takes far longer.
const BUDGET_MS = 250;

describe.each(dialects)('credential lists at 100,000 credentials on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let owner: { id: string };
  const deviceIds: string[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('scale-a');
    owner = await activeUser(t, admin, 'scale-owner');
    // Seeded straight into the tables (sealing 100,000 secrets through the API would only measure AES): the lists
    // read nothing sealed.
    const db = t.runtime.database.db;
    const now = t.clock.now();
    const devices: DeviceTable[] = Array.from({ length: DEVICES }, (_, i) => ({
      tenant_id: admin.id, id: newId(now), name: `host-${i}`, address: `10.${Math.floor(i / 250)}.${i % 250}.1`, port: 22, protocol: 'ssh', type: ['server', 'database', 'firewall', 'switch', 'storage'][i % 5]!,
      vendor: null, model: null, site: `site-${i % 10}`, criticality: 'medium', status: 'active', description: null, created_at: now, updated_at: now,
    }));
    deviceIds.push(...devices.map((d) => d.id));
    for (let i = 0; i < devices.length; i += 500) await db.insertInto('devices').values(devices.slice(i, i + 500)).execute();
    const deviceTags = devices.flatMap((d, i) => [...(i % 2 === 0 ? ['prod'] : []), ...(i % 50 === 0 ? ['pci'] : [])].map((tag) => ({ tenant_id: admin.id, device_id: d.id, tag })));
    for (let i = 0; i < deviceTags.length; i += 1000) await db.insertInto('device_tags').values(deviceTags.slice(i, i + 1000)).execute();
    for (let start = 0; start < CREDENTIALS; start += 500) {
      const rows: CredentialTable[] = [];
      const tags: { tenant_id: string; credential_id: string; tag: string }[] = [];
      for (let i = start; i < start + 500; i += 1) {
        const id = newId(now);
        rows.push({
          tenant_id: admin.id, id, device_id: deviceIds[i % DEVICES]!, username: `user${Math.floor(i / DEVICES)}`, type: (['password', 'ssh-key', 'api-key'] as const)[i % 3]!, version: 0, secret_sealed: null, passphrase_sealed: null,
          totp_sealed: null, owner_id: i % 500 === 0 ? owner.id : null, notes: null, additional_info: '{}', status: i % 100 === 0 ? 'inactive' : 'active', needs_rotation: i % 1000 === 0 ? 1 : 0, secret_changed_at: null, created_at: now, updated_at: now,
        });
        if (i % 2 === 0) tags.push({ tenant_id: admin.id, credential_id: id, tag: 'common' });
        if (i % 5000 === 0) tags.push({ tenant_id: admin.id, credential_id: id, tag: 'rare' });
      }
      await db.insertInto('credentials').values(rows).execute();
      await db.insertInto('credential_tags').values(tags).execute();
    }
  }, 180_000);
  afterAll(async () => t.close());

  /** The fastest of three runs of a list request (the first run warms caches), with its answer. */
  async function timed(query: string) {
    let best = Infinity;
    let body: { credentials: { id: string }[]; nextCursor: string | null } | undefined;
    for (let run = 0; run < 3; run += 1) {
      const started = performance.now();
      const res = await apiCall(t, 'GET', `/credentials?${query}`, admin.token);
      best = Math.min(best, performance.now() - started);
      expect(res.statusCode, res.body).toBe(200);
      body = res.json();
    }
    return { ms: best, body: body! };
  }

  // First with no planner statistics (a bulk import just landed; SQLite never gathers them unasked), then with them
  // (as autovacuum or an ANALYZE leaves them): the plans must be good either way.
  it.each(['without', 'with'])('every filter answers its first page within budget, with the right rows, %s planner statistics', async (stats) => {
    if (stats === 'with') await sql`analyze`.execute(t.runtime.database.db);
    const cases: [string, number][] = [
      ['', 50],
      [`deviceId=${deviceIds[7]}`, 50],
      ['deviceName=host-1999', 50],
      ['site=site-3', 50],
      ['deviceType=firewall', 50],
      ['deviceTag=pci', 50],
      ['deviceTag=prod,pci', 50],
      ['username=user49', 50],
      ['type=api-key', 50],
      ['tag=rare', 20],
      ['tag=common', 50],
      ['tag=common&tag=rare', 20],
      ['status=inactive', 50],
      [`ownerId=${owner.id}`, 50],
      ['needsRotation=true', 50],
      ['username=user7&deviceTag=pci&type=password', 13],
      ['q=host-1234', 50],
      ['q=no-such-thing', 0],
    ];
    const slow: string[] = [];
    for (const [query, expected] of cases) {
      const { ms, body } = await timed(query);
      expect(body.credentials.length, query).toBe(expected);
      if (ms > BUDGET_MS) slow.push(`${query || '(no filter)'}: ${ms.toFixed(0)} ms`);
    }
    expect(slow, `over ${BUDGET_MS} ms`).toEqual([]);
  });

  it('a deep page (the last of 100,000) costs no more than the first: keyset pagination, no offset', async () => {
    const last = await t.runtime.database.db.selectFrom('credentials').select('id').where('tenant_id', '=', admin.id).orderBy('id', 'desc').offset(30).limit(1).executeTakeFirstOrThrow();
    const { ms, body } = await timed(`cursor=${last.id}`);
    expect([body.credentials.length, body.nextCursor]).toEqual([30, null]);
    expect(ms).toBeLessThan(BUDGET_MS);
    const { body: filtered } = await timed(`tag=rare&limit=15`);
    expect(filtered.nextCursor).toBe(filtered.credentials[14]!.id);
    expect((await timed(`tag=rare&limit=15&cursor=${filtered.nextCursor}`)).body.credentials).toHaveLength(5);
  });

  it.skipIf(dialect !== 'sqlite')('each indexed filter searches its own index instead of walking the whole tenant (SQLite query plan)', async () => {
    const db = t.runtime.database.db;
    await sql`analyze`.execute(db);
    const plan = async (where: string) => (await sql.raw<{ detail: string }>(`explain query plan select c.* from credentials c where c.tenant_id = '${admin.id}' and ${where} order by c.id limit 51`).execute(db)).rows.map((r) => r.detail);
    const expected: [string, RegExp][] = [
      [`c.owner_id = '${owner.id}'`, /^SEARCH c USING INDEX credentials_owner_idx \(tenant_id=\? AND owner_id=\?\)/],
      ['c.needs_rotation = 1', /^SEARCH c USING INDEX credentials_rotation_idx \(tenant_id=\? AND needs_rotation=\?\)/],
      [`c.status = 'inactive'`, /^SEARCH c USING INDEX credentials_status_idx \(tenant_id=\? AND status=\?\)/],
      [`c.type = 'api-key'`, /^SEARCH c USING INDEX credentials_type_idx \(tenant_id=\? AND type=\?\)/],
      [`c.username = 'user3'`, /^SEARCH c USING INDEX credentials_username_idx \(tenant_id=\? AND username=\?\)/],
      [`c.device_id = '${deviceIds[0]}'`, /^SEARCH c USING INDEX \S+ \(tenant_id=\? AND device_id=\?\)/],
      [`c.id in (select credential_id from credential_tags where tenant_id = '${admin.id}' and tag = 'rare')`, /^SEARCH credential_tags USING COVERING INDEX credential_tags_tag_idx \(tenant_id=\? AND tag=\?\)/],
    ];
    for (const [where, step] of expected) {
      const steps = await plan(where);
      expect(steps.some((s) => step.test(s)), `${where}: ${steps.join(' | ')}`).toBe(true);
    }
  });
});
