import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { createPolicyBody } from '../vault/credential-policies.schemas.js';
import { createLogger } from '../../platform/log.js';
import { addAccount, currentSecret, rotationOf, tenantActor } from './fixtures/harness.js';
import { startPostgresTarget, type PostgresTarget } from '../../../test/support/postgres-target.js';
import { rotationJobHandlers } from './rotation.jobs.js';
import { ROTATION_JOB } from './rotation.service.js';
import * as store from './rotation.store.js';

const DAY = 86_400_000;
let pgTarget: PostgresTarget | null = null;
beforeAll(async () => {
  pgTarget = await startPostgresTarget();
}, 120_000);
afterAll(async () => pgTarget?.stop());

describe.each(dialects)('rotation triggers and jobs on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('sweep');
  });
  afterAll(() => t.close());

  const db = () => t.runtime.database.db;
  const rotationsOf = (credentialId: string) => db().selectFrom('rotations').selectAll().where('tenant_id', '=', admin.id).where('credential_id', '=', credentialId).orderBy('id').execute();
  // Through the services: the tests move the clock past the admin session's lifetime.
  const policy = async (rules: object, filters: object) => {
    const body = createPolicyBody.parse({ name: `p${Math.random()}`, priority: 10, filters, rules: { minLength: 32, requireClasses: ['lower', 'upper', 'digit'], ...rules } });
    await t.runtime.services.credentialPolicies.create(tenantActor(admin.id), body);
  };

  it('the sweep schedules a flagged credential once (trigger after-reveal) and skips one it cannot rotate', async () => {
    const { credentialId } = await addAccount(t.runtime, admin.id, { protocol: 'postgres', port: 5 }, { username: 'flagged', password: 'Flagged-password-1' });
    const { credentialId: telnet } = await addAccount(t.runtime, admin.id, { protocol: 'telnet', port: 6 }, { username: 'x', password: 'y' });
    await db().updateTable('credentials').set({ needs_rotation: 1 }).where('id', 'in', [credentialId, telnet]).execute();
    const service = rotationOf(t.runtime).rotations;
    expect(await service.sweep()).toBe(1);
    expect((await rotationsOf(credentialId)).map((r) => [r.trigger, r.state])).toEqual([['after-reveal', 'scheduled']]);
    await service.sweep();
    expect(await rotationsOf(credentialId)).toHaveLength(1);
    expect(await rotationsOf(telnet)).toHaveLength(0);
    // A rotation that failed for good waits a day before the sweep tries the credential again.
    await db().updateTable('rotations').set({ state: 'failed', finished_at: t.clock.now() }).where('credential_id', '=', credentialId).execute();
    expect(await service.sweep()).toBe(0);
    t.clock.advance(DAY + 1);
    expect(await service.sweep()).toBe(1);
    expect((await rotationsOf(credentialId)).map((r) => r.state)).toEqual(['failed', 'scheduled']);
    await db().updateTable('rotations').set({ state: 'cancelled' }).where('credential_id', '=', credentialId).execute();
    await db().updateTable('credentials').set({ needs_rotation: 0 }).where('id', 'in', [credentialId, telnet]).execute();
  });

  it('a flagged credential inside an approved access window waits; when the window ends it is rotated (trigger window-end)', async () => {
    const { credentialId } = await addAccount(t.runtime, admin.id, { protocol: 'postgres', port: 5 }, { username: 'windowed', password: 'Windowed-password-1' });
    const now = t.clock.now();
    await db().insertInto('access_requests').values({
      tenant_id: admin.id, id: crypto.randomUUID(), requester_id: admin.id, credential_id: credentialId, action: 'reveal', justification: 'ticket 1', status: 'approved', emergency: 0, stage: 1,
      requirements: '[]', policy_ids: '[]', valid_minutes: 60, requested_from: null, requested_to: null, expires_at: now + 3_600_000, valid_from: now, valid_until: now + 3_600_000, decided_at: now, decided_by: admin.id, created_at: now, updated_at: now,
    }).execute();
    await db().updateTable('credentials').set({ needs_rotation: 1 }).where('id', '=', credentialId).execute();
    const { rotations } = rotationOf(t.runtime);
    await rotations.sweep();
    expect(await rotationsOf(credentialId)).toHaveLength(0);
    t.clock.advance(3_600_000);
    await rotations.sweep();
    expect((await rotationsOf(credentialId)).map((r) => r.trigger)).toEqual(['window-end']);
    await db().updateTable('credentials').set({ needs_rotation: 0 }).where('id', '=', credentialId).execute();
    await db().updateTable('rotations').set({ state: 'cancelled' }).where('credential_id', '=', credentialId).execute();
  });

  it('maximum age schedules overdue credentials, only inside the policy rotation windows; the new password follows the policy', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, admin.id, { protocol: 'postgres', port: pgTarget.port }, role);
    await t.runtime.services.credentials.update(tenantActor(admin.id), credentialId, { tags: ['aged'] });
    // A window on one weekday only: the one 33 days from now.
    const windowDay = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][new Date(t.clock.now() + 33 * DAY).getUTCDay()];
    await policy({ maxAgeDays: 30, rotationWindows: [{ days: [windowDay], from: '00:00', to: '24:00', timeZone: 'UTC' }] }, { credentialTags: ['aged'] });
    const { engine, rotations } = rotationOf(t.runtime);
    await rotations.sweep();
    expect(await rotationsOf(credentialId)).toHaveLength(0);
    t.clock.advance(31 * DAY);
    // Overdue, but two days before the window's weekday.
    await rotations.sweep();
    expect(await rotationsOf(credentialId)).toHaveLength(0);
    t.clock.advance(2 * DAY);
    await rotations.sweep();
    const [rotation] = await rotationsOf(credentialId);
    expect(rotation).toMatchObject({ trigger: 'max-age', state: 'scheduled' });
    expect((await engine.run(admin.id, rotation!.id)).state).toBe('succeeded');
    const current = await currentSecret(t.runtime, admin.id, credentialId);
    expect(current.secret).toHaveLength(32);
    await rotations.sweep();
    expect(await rotationsOf(credentialId)).toHaveLength(1);
  });

  it('the job retries a retryable failure (throws for the queue to back off) and fails the rotation on its last attempt', async () => {
    const hung: net.Socket[] = [];
    const server = net.createServer((socket) => hung.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const { credentialId } = await addAccount(t.runtime, admin.id, { protocol: 'postgres', port }, { username: 'hung', password: 'Original-password-1' });
      const { engine, rotations, queue } = rotationOf(t.runtime, { timeoutMs: 200 });
      const handlers = rotationJobHandlers({ engine, rotations, queue, db: db(), audit: t.runtime.audit, clock: t.clock, log: createLogger({ level: 'silent' }) });
      const view = await rotations.request({ kind: 'user', id: 'u', tenantId: admin.id }, credentialId);
      const job = (await queue.get((await store.findRotation(db(), admin.id, view.id))!.job_id!))!;
      const ctx = (attempt: number) => ({ attempt, signal: new AbortController().signal, log: createLogger({ level: 'silent' }) });
      await expect(handlers[ROTATION_JOB]!(job, ctx(1))).rejects.toThrow('ROTATION_TARGET_TIMEOUT');
      await handlers[ROTATION_JOB]!(job, ctx(job.maxAttempts));
      const row = await store.findRotation(db(), admin.id, view.id);
      expect(row, JSON.stringify({ ...row, pending_secret_sealed: null })).toMatchObject({ state: 'failed', error_code: 'ROTATION_TARGET_TIMEOUT', attempts: 1 });
      expect(await currentSecret(t.runtime, admin.id, credentialId)).toMatchObject({ secret: 'Original-password-1', version: 1 });
    } finally {
      for (const socket of hung) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
