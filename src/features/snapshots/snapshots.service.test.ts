import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { apiCall } from '../../../test/support/users.js';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { openSnapshotSource } from './snapshot-source.js';

const operator = { kind: 'operator' as const, id: 'cli:test', ip: null };
const SECRET = `snapshot-secret-${randomBytes(6).toString('hex')}`;

describe.each(dialects)('snapshots on %s', (dialect) => {
  let t: TestApp;
  let acme: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    acme = await t.tenantWithAdmin('snap-acme');
    other = await t.tenantWithAdmin('snap-other');
    for (const who of [acme, other]) {
      const device = await apiCall(t, 'POST', '/devices', who.token, { name: 'db-1', address: '10.0.0.5', port: 5432, protocol: 'postgres' });
      expect(device.statusCode, device.body).toBe(201);
      const credential = await apiCall(t, 'POST', '/credentials', who.token, { deviceId: device.json().device.id, username: 'postgres', type: 'password', secret: SECRET });
      expect(credential.statusCode, credential.body).toBe(201);
    }
  });
  afterAll(() => t.close());

  const snapshots = () => t.runtime.services.snapshots;
  const db = () => t.runtime.database.db;
  const countOf = async (table: string, where = '') => Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(table)} ${sql.raw(where)}`.execute(db())).rows[0]!.n);

  it('a system snapshot holds every row of every table, verifies, and is listed', async () => {
    const taken = await snapshots().create(operator);
    expect(taken.path.startsWith(t.runtime.config.snapshotDir)).toBe(true);
    const verified = snapshots().verify(taken.id);
    expect(verified.manifest).toMatchObject({ id: taken.id, scope: { kind: 'system' }, dialect, schemaVersion: expect.stringMatching(/^\d{4}_/) });
    for (const table of ['tenants', 'users', 'credentials', 'credential_versions', 'tenant_keys', 'custos_meta', 'kysely_migration']) {
      const part = verified.manifest.parts.find((p) => p.table === table);
      expect([table, part?.rows]).toEqual([table, await countOf(table)]);
    }
    expect(verified.rows).toBe(verified.manifest.parts.reduce((sum, p) => sum + p.rows, 0));
    expect(snapshots().list()[0]).toMatchObject({ id: taken.id, scope: { kind: 'system' }, bytes: verified.bytes });
    const events = await db().selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', SYSTEM_SCOPE).where('action', '=', 'snapshot.created').orderBy('seq').execute();
    expect(JSON.parse(events.at(-1)!.details)).toMatchObject({ snapshotId: taken.id, scope: 'system', rows: verified.rows });
  });

  it('a snapshot file holds no plaintext: not a secret, not a name, not a sealed value', async () => {
    const taken = await snapshots().create(operator);
    const bytes = readFileSync(taken.path);
    for (const text of [SECRET, 'db-1', acme.username, 'postgres']) expect([text, bytes.includes(Buffer.from(text))]).toEqual([text, false]);
  });

  it("a tenant snapshot holds that tenant's rows only", async () => {
    const taken = await snapshots().create(operator, { tenantSlug: 'snap-acme' });
    const { manifest } = snapshots().verify(taken.id);
    expect(manifest.scope).toEqual({ kind: 'tenant', tenantId: acme.id, slug: 'snap-acme' });
    expect(manifest.parts.find((p) => p.table === 'tenants')?.rows).toBe(1);
    expect(manifest.parts.find((p) => p.table === 'credentials')?.rows).toBe(await countOf('credentials', `where tenant_id = '${acme.id}'`));
    expect(manifest.parts.find((p) => p.table === 'audit_events')?.rows).toBe(await countOf('audit_events', `where tenant_id = '${acme.id}'`));
    expect(manifest.parts.map((p) => p.table)).not.toContain('custos_meta');
    expect(manifest.parts.map((p) => p.table)).not.toContain('operator_tokens');
    expect(manifest.migrations.length).toBeGreaterThan(20);
    await expect(snapshots().create(operator, { tenantSlug: 'nobody' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });

  it('a flipped byte, a cut-off file, bytes appended, a wrong key and a foreign file are refused, each with its code', async () => {
    const taken = await snapshots().create(operator, { tenantSlug: 'snap-other' });
    const bytes = readFileSync(taken.path);
    const variant = (name: string, content: Buffer) => {
      const file = `${taken.path}.${name}.snapshot`;
      writeFileSync(file, content);
      return file;
    };
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length * 0.6)]! ^= 0x01;
    expect(() => snapshots().verify(variant('flipped', flipped))).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPTED' }));
    expect(() => snapshots().verify(variant('cut', bytes.subarray(0, bytes.length - 100)))).toThrow(expect.objectContaining({ code: 'SNAPSHOT_TRUNCATED' }));
    expect(() => snapshots().verify(variant('half', bytes.subarray(0, Math.floor(bytes.length / 2))))).toThrow(expect.objectContaining({ code: 'SNAPSHOT_TRUNCATED' }));
    expect(() => snapshots().verify(variant('extra', Buffer.concat([bytes, Buffer.from([0, 0, 0, 1, 7])])))).toThrow(expect.objectContaining({ code: 'SNAPSHOT_CORRUPTED' }));
    expect(() => snapshots().verify(taken.id, { rootKey: randomBytes(32) })).toThrow(expect.objectContaining({ code: 'SNAPSHOT_WRONG_KEY' }));
    expect(() => snapshots().verify(variant('foreign', Buffer.from('PK\u0003\u0004 not a snapshot')))).toThrow(expect.objectContaining({ code: 'SNAPSHOT_NOT_A_SNAPSHOT' }));
    expect(() => snapshots().verify('20260101T000000Z-missing')).toThrow(expect.objectContaining({ code: 'SNAPSHOT_NOT_FOUND' }));
    // The original is untouched by all of this.
    expect(snapshots().verify(taken.id).manifest.id).toBe(taken.id);
  });

  it('the snapshot read sees one instant: a write made while it is open succeeds at once and is not in it', async () => {
    const store = dialect === 'sqlite' ? { dialect: 'sqlite' as const, file: t.runtime.database.location } : { dialect: 'postgres' as const, url: t.runtime.config.databaseUrl! };
    const source = await openSnapshotSource(store);
    try {
      const devices = (await source.tables()).find((table) => table.name === 'devices')!;
      const rowsNow = async () => {
        let n = 0;
        for await (const batch of source.batches(devices, acme.id, 100)) n += batch.length;
        return n;
      };
      const seen = await rowsNow();
      const started = Date.now();
      const created = await apiCall(t, 'POST', '/devices', acme.token, { name: 'made-during', address: '10.0.0.9', port: 22, protocol: 'ssh' });
      expect(created.statusCode, created.body).toBe(201);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await rowsNow()).toBe(seen);
      expect(await countOf('devices', `where tenant_id = '${acme.id}'`)).toBe(seen + 1);
    } finally {
      await source.close();
    }
  });
});
