import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

describe.each(dialects)('snapshot routes on %s', (dialect) => {
  let t: TestApp;
  let tenantToken: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    tenantToken = (await t.tenantWithAdmin('snap-routes')).token;
  });
  afterAll(() => t.close());

  const ops = (method: 'GET' | 'POST', url: string, payload?: object, token = t.operatorToken) => t.app.inject({ method, url: `/ops/v1${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });

  it('POST /ops/v1/snapshots takes a snapshot that GET lists and verify confirms', async () => {
    const created = await ops('POST', '/snapshots', { tenant: 'snap-routes' });
    expect(created.statusCode, created.body).toBe(201);
    const { snapshot } = created.json();
    expect(snapshot).toMatchObject({ scope: { kind: 'tenant', slug: 'snap-routes' }, rows: expect.any(Number), parts: expect.any(Array) });
    const system = await ops('POST', '/snapshots', {});
    expect(system.json().snapshot.scope).toEqual({ kind: 'system' });
    const listed = (await ops('GET', '/snapshots')).json().snapshots.map((s: { id: string }) => s.id);
    expect(listed).toEqual(expect.arrayContaining([snapshot.id, system.json().snapshot.id]));
    const verified = await ops('POST', `/snapshots/${snapshot.id}/verify`);
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toMatchObject({ ok: true, manifest: { id: snapshot.id, parts: snapshot.parts } });
  });

  it('a damaged snapshot answers 400 with its code; an unknown one 404; a malformed id 400', async () => {
    const { snapshot } = (await ops('POST', '/snapshots', {})).json();
    writeFileSync(snapshot.path, 'CUSTOS-SNAPSHOT-1\n{"format":1');
    const damaged = await ops('POST', `/snapshots/${snapshot.id}/verify`);
    expect([damaged.statusCode, damaged.json().error.code]).toEqual([400, 'SNAPSHOT_TRUNCATED']);
    const unknown = await ops('POST', '/snapshots/20200101T000000Z-00000000/verify');
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'SNAPSHOT_NOT_FOUND']);
    expect((await ops('POST', '/snapshots/..%2F..%2Fetc%2Fpasswd/verify')).statusCode).toBe(400);
    expect((await ops('POST', '/snapshots', { tenant: 'no-such-tenant' })).json().error.code).toBe('TENANT_NOT_FOUND');
    expect((await ops('POST', '/snapshots', { tenant: '' })).statusCode).toBe(400);
    expect((await ops('POST', '/snapshots', { everything: true })).statusCode).toBe(400);
  });

  it('POST /ops/v1/snapshots/{id}/restore restores one tenant; a system snapshot without a tenant answers 400', async () => {
    const { snapshot } = (await ops('POST', '/snapshots', { tenant: 'snap-routes' })).json();
    const restored = await ops('POST', `/snapshots/${snapshot.id}/restore`, {});
    expect(restored.statusCode, restored.body).toBe(200);
    expect(restored.json()).toMatchObject({ snapshotId: snapshot.id, slug: 'snap-routes', rows: expect.any(Number) });
    // Its users were signed out by the restore.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(tenantToken) })).statusCode).toBe(401);
    const system = (await ops('POST', '/snapshots', {})).json().snapshot;
    const unnamed = await ops('POST', `/snapshots/${system.id}/restore`, {});
    expect([unnamed.statusCode, unnamed.json().error.code]).toEqual([400, 'SNAPSHOT_TENANT_REQUIRED']);
    expect((await ops('POST', `/snapshots/${system.id}/restore`, { tenant: 'nobody' })).statusCode).toBe(404);
  });

  it('the snapshot routes need an operator token: none answers 401, a tenant token too', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/ops/v1/snapshots' })).statusCode).toBe(401);
    expect((await ops('GET', '/snapshots', undefined, tenantToken)).statusCode).toBe(401);
    expect((await ops('POST', '/snapshots', {}, tenantToken)).statusCode).toBe(401);
    expect((await ops('POST', '/snapshots/20200101T000000Z-00000000/restore', {}, tenantToken)).statusCode).toBe(401);
  });
});
