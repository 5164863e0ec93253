import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { apiCall } from '../../../test/support/users.js';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { versionContext } from '../vault/credentials.sealing.js';
import * as credentials from '../vault/credentials.store.js';

const operator = { kind: 'operator' as const, id: 'cli:test', ip: null };
const SECRET = `tenant-restore-${randomBytes(6).toString('hex')}`;
// What a restore changes on purpose: the chain gains tenant.restored, sessions and client tokens end.
const CHANGED_BY_RESTORE = new Set(['audit_events', 'audit_heads', 'sessions', 'client_tokens', 'jobs', 'signals']);

/** Every row a tenant owns, per table, as sorted JSON (row order is the engine's business). */
async function rowsOf(t: TestApp, tenantId: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of await t.runtime.database.db.introspection.getTables()) {
    const column = table.name === 'tenants' ? 'id' : table.columns.some((c) => c.name === 'tenant_id') ? 'tenant_id' : null;
    if (!column) continue;
    const rows = (await sql<Record<string, unknown>>`select * from ${sql.table(table.name)} where ${sql.ref(column)} = ${tenantId}`.execute(t.runtime.database.db)).rows;
    out[table.name] = rows.map((row) => JSON.stringify(Object.entries(row).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : v]))).sort();
  }
  return out;
}
const without = (rows: Record<string, string[]>, skip: Set<string>) => Object.fromEntries(Object.entries(rows).filter(([table]) => !skip.has(table)));

describe.each(dialects)('restoring one tenant on %s', (dialect) => {
  let t: TestApp;
  let acme: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let credentialId: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    acme = await t.tenantWithAdmin('tr-acme');
    other = await t.tenantWithAdmin('tr-other');
    const device = await apiCall(t, 'POST', '/devices', acme.token, { name: 'db-1', address: '10.0.0.5', port: 5432, protocol: 'postgres' });
    const credential = await apiCall(t, 'POST', '/credentials', acme.token, { deviceId: device.json().device.id, username: 'postgres', type: 'password', secret: SECRET });
    expect(credential.statusCode, credential.body).toBe(201);
    credentialId = credential.json().credential.id;
  });
  afterAll(() => t.close());

  const login = async (slug: string) => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: slug, username: slug === 'tr-acme' ? acme.username : other.username, password: ADMIN_PASSWORD } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().token as string;
  };

  it('brings the tenant back exactly as it was while another tenant keeps working and is not touched', async () => {
    const taken = await t.runtime.services.snapshots.create(operator, { tenantSlug: 'tr-acme' });
    const atSnapshot = await rowsOf(t, acme.id);
    // After the snapshot: a new device, a changed secret, a removed credential tag... and the other tenant works on.
    expect((await apiCall(t, 'POST', '/devices', acme.token, { name: 'after-snapshot', address: '10.0.0.6', port: 22, protocol: 'ssh' })).statusCode).toBe(201);
    expect((await apiCall(t, 'POST', `/credentials/${credentialId}/secret`, acme.token, { secret: 'changed-after-snapshot' })).statusCode).toBe(200);
    let otherWrites = 0;
    let otherFailures = 0;
    let restoring = true;
    const traffic = (async () => {
      while (restoring) {
        const res = await apiCall(t, 'POST', '/devices', other.token, { name: `busy-${otherWrites}-${randomBytes(3).toString('hex')}`, address: '10.1.0.1', port: 22, protocol: 'ssh' });
        if (res.statusCode === 201) otherWrites += 1;
        else otherFailures += 1;
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    const otherBefore = await rowsOf(t, other.id);
    const restored = await t.runtime.services.snapshots.restoreTenant(operator, taken.id).finally(() => (restoring = false));
    await traffic;
    expect(restored).toMatchObject({ tenantId: acme.id, slug: 'tr-acme', rows: expect.any(Number) });
    expect(otherFailures).toBe(0);
    expect(otherWrites).toBeGreaterThan(0);

    const after = await rowsOf(t, acme.id);
    expect(without(after, CHANGED_BY_RESTORE)).toEqual(without(atSnapshot, CHANGED_BY_RESTORE));
    // The chain is the snapshot's plus one tenant.restored, and it verifies.
    expect(after.audit_events!.length).toBe(atSnapshot.audit_events!.length + 1);
    expect((await t.runtime.audit.verify(t.runtime.database.db, acme.id)).ok).toBe(true);
    expect(after.sessions).toEqual([]);
    // The other tenant only gained what its own traffic wrote.
    const otherAfter = await rowsOf(t, other.id);
    for (const [table, rows] of Object.entries(without(otherBefore, CHANGED_BY_RESTORE))) expect([table, rows.every((r) => otherAfter[table]!.includes(r))]).toEqual([table, true]);
    const events = await t.runtime.database.db.selectFrom('audit_events').select(['action', 'details']).where('tenant_id', 'in', [SYSTEM_SCOPE, acme.id]).where('action', '=', 'tenant.restored').orderBy('seq').execute();
    expect(events).toHaveLength(2);
  });

  it('the old session is refused; after signing in again the data, and the secret under the tenant key, are as at the snapshot', async () => {
    expect((await apiCall(t, 'GET', '/devices', acme.token)).statusCode).toBe(401);
    const token = await login('tr-acme');
    const devices = (await apiCall(t, 'GET', '/devices', token)).json().devices.map((d: { name: string }) => d.name);
    expect(devices).toEqual(['db-1']);
    const credential = (await apiCall(t, 'GET', `/credentials/${credentialId}`, token)).json().credential;
    expect(credential.version).toBe(1);
    // The keyring forgot the tenant's keys and opens the restored version with the restored (wrapped) tenant key.
    const row = (await credentials.findCredential(t.runtime.database.db, acme.id, credentialId))!;
    expect((await t.runtime.keyring.open(t.runtime.database.db, versionContext(acme.id, credentialId, row.version, 'secret'), row.secret_sealed!)).toString('utf8')).toBe(SECRET);
    acme = { ...acme, token };
  });

  it('from a system snapshot it needs the slug; an unknown slug or a damaged file changes nothing', async () => {
    const system = await t.runtime.services.snapshots.create(operator);
    const before = await rowsOf(t, acme.id);
    await expect(t.runtime.services.snapshots.restoreTenant(operator, system.id)).rejects.toMatchObject({ code: 'SNAPSHOT_TENANT_REQUIRED' });
    await expect(t.runtime.services.snapshots.restoreTenant(operator, system.id, { slug: 'nobody' })).rejects.toMatchObject({ code: 'SNAPSHOT_TENANT_NOT_FOUND' });
    const bytes = readFileSync(system.path);
    const damaged = Buffer.from(bytes);
    damaged[Math.floor(bytes.length * 0.7)]! ^= 0x10;
    writeFileSync(`${system.path}.damaged.snapshot`, damaged);
    await expect(t.runtime.services.snapshots.restoreTenant(operator, `${system.path}.damaged.snapshot`, { slug: 'tr-acme' })).rejects.toMatchObject({ code: 'SNAPSHOT_CORRUPTED' });
    expect(await rowsOf(t, acme.id)).toEqual(before);
    const restored = await t.runtime.services.snapshots.restoreTenant(operator, system.id, { slug: 'tr-acme' });
    expect(restored.tenantId).toBe(acme.id);
    expect(without(await rowsOf(t, acme.id), CHANGED_BY_RESTORE)).toEqual(without(before, CHANGED_BY_RESTORE));
  });
});
