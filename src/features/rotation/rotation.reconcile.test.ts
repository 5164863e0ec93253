import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { startPostgresTarget, type PostgresTarget } from '../../../test/support/postgres-target.js';
import { sshdMissing, startSshd, sudoMissing, type TestSshd } from '../../../test/support/sshd.js';
import { createLogger } from '../../platform/log.js';
import { addAccount, addCredential, currentSecret, loopbackDialer, rotationOf, tenantActor } from './fixtures/harness.js';
import { postgresPlugin } from './plugins/postgres.js';
import { sshPasswordPlugin } from './plugins/ssh-password.js';
import { createHeartbeat } from './rotation.heartbeat.js';
import { ROTATION_JOB } from './rotation.service.js';
import { rotationJobHandlers } from './rotation.jobs.js';
import * as store from './rotation.store.js';

const sshSkip = sshdMissing() !== null || sudoMissing() !== null;
let sshd: TestSshd | null = null;
let pgTarget: PostgresTarget | null = null;
beforeAll(async () => {
  [sshd, pgTarget] = await Promise.all([sshSkip ? null : startSshd(), startPostgresTarget()]);
}, 120_000);
afterAll(async () => Promise.all([sshd?.stop(), pgTarget?.stop()]));

/** Someone changes the account's password on the target, behind the vault's back. */
const changeBehindTheVault = (username: string, password: string) => {
  const result = spawnSync('chpasswd', [], { input: `${username}:${password}\n`, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`chpasswd failed: ${result.stderr}`);
};

describe.each(dialects)('reconciliation on %s', (dialect) => {
  let t: TestApp;
  let tenantId: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    tenantId = (await t.tenantWithAdmin('recon')).id;
  });
  afterAll(() => t.close());

  const db = () => t.runtime.database.db;
  const actions = async (credentialId: string) => (await db().selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', tenantId).where('target_id', '=', credentialId).orderBy('seq').execute()).map((e) => e.action);
  const outOfSyncControl = async () => (await t.runtime.services.compliance.report(tenantActor(tenantId))).controls.find((c) => c.id === 'credentials-out-of-sync')!;
  const rotationsOf = (credentialId: string) => db().selectFrom('rotations').selectAll().where('tenant_id', '=', tenantId).where('credential_id', '=', credentialId).orderBy('created_at').execute();

  it('a Linux password changed behind the vault is found by the heartbeat and reset with the reconciliation credential', async (c) => {
    if (!sshd) return c.skip();
    const [user, resetter] = await Promise.all([sshd.createUser(), sshd.createUser({ sudo: true })]);
    const { deviceId, credentialId: resetterId } = await addAccount(t.runtime, tenantId, { protocol: 'ssh', port: sshd.port }, resetter);
    const { credentialId } = await addCredential(t.runtime, tenantId, deviceId, user, { reconcileCredentialId: resetterId });
    const { engine, rotations } = rotationOf(t.runtime);
    const heartbeat = createHeartbeat({ db: db(), audit: t.runtime.audit, clock: t.clock, engine, reconcile: rotations.reconcileOutOfSync });
    changeBehindTheVault(user.username, 'Changed-behind-the-vault-1');

    const counts = await heartbeat.beat();
    expect(counts).toMatchObject({ outOfSync: 1, reconciling: 1 });
    expect(await heartbeat.statusOf(tenantId, credentialId)).toMatchObject({ status: 'out_of_sync' });
    expect(await outOfSyncControl()).toMatchObject({ status: 'fail', offenderCount: 1, offenders: [{ type: 'credential', id: credentialId }] });
    const [rotation] = await rotationsOf(credentialId);
    expect(rotation).toMatchObject({ trigger: 'reconcile', state: 'scheduled' });

    expect(await engine.run(tenantId, rotation!.id)).toEqual({ state: 'succeeded', retry: false });
    const current = await currentSecret(t.runtime, tenantId, credentialId);
    expect(current.version).toBe(2);
    const ctx = { username: user.username, timeoutMs: 5_000, info: {}, dial: () => loopbackDialer({ tenantId, host: '127.0.0.1', port: sshd!.port }) };
    expect(await sshPasswordPlugin.verify(ctx, { secret: current.secret })).toBe(true);
    expect(await sshPasswordPlugin.verify(ctx, { secret: 'Changed-behind-the-vault-1' })).toBe(false);
    expect(await heartbeat.statusOf(tenantId, credentialId)).toMatchObject({ status: 'ok' });
    expect(await outOfSyncControl()).toMatchObject({ status: 'pass', offenderCount: 0 });
    expect(await actions(credentialId)).toEqual(['credential.created', 'credential.secret.changed', 'credential.out_of_sync', 'rotation.scheduled', 'credential.secret.changed', 'rotation.succeeded', 'credential.reconciled']);
    // The next beat finds it in sync and schedules nothing more.
    t.clock.advance(60_000);
    expect(await heartbeat.beat()).toMatchObject({ outOfSync: 0, reconciling: 0 });
    expect(await rotationsOf(credentialId)).toHaveLength(1);
  });

  it('without a reconciliation credential the heartbeat only marks the credential out of sync', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, role);
    const { engine, rotations } = rotationOf(t.runtime);
    const heartbeat = createHeartbeat({ db: db(), audit: t.runtime.audit, clock: t.clock, engine, reconcile: rotations.reconcileOutOfSync });
    const ctx = { username: role.username, timeoutMs: 5_000, info: {}, dial: () => loopbackDialer({ tenantId, host: '127.0.0.1', port: pgTarget!.port }) };
    await postgresPlugin.change(ctx, { current: { secret: role.password }, next: { secret: 'Changed-behind-the-vault-2' } });
    t.clock.advance(60_000);
    expect(await heartbeat.beat()).toMatchObject({ reconciling: 0 });
    expect(await heartbeat.statusOf(tenantId, credentialId)).toMatchObject({ status: 'out_of_sync' });
    expect(await rotationsOf(credentialId)).toEqual([]);
    const control = await outOfSyncControl();
    expect(control.offenders.find((o) => o.id === credentialId)?.detail).toContain('no reconciliation credential set');
  });

  it('a reconciliation credential the target refuses fails the reset cleanly; the heartbeat does not retry it for a day', async (c) => {
    if (!pgTarget) return c.skip();
    const [role, superuser] = await Promise.all([pgTarget.createRole(), pgTarget.createRole({ superuser: true })]);
    const { deviceId, credentialId: resetterId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, { username: superuser.username, password: 'Wrong-superuser-password-1' });
    const { credentialId } = await addCredential(t.runtime, tenantId, deviceId, { username: role.username, password: 'Not-the-password-1' }, { reconcileCredentialId: resetterId });
    const { engine, rotations } = rotationOf(t.runtime);
    const heartbeat = createHeartbeat({ db: db(), audit: t.runtime.audit, clock: t.clock, engine, reconcile: rotations.reconcileOutOfSync });
    t.clock.advance(60_000);
    await heartbeat.beat();
    const [rotation] = await rotationsOf(credentialId);
    expect(rotation).toMatchObject({ trigger: 'reconcile' });
    expect(await engine.run(tenantId, rotation!.id, { finalAttempt: true })).toEqual({ state: 'failed', retry: false });
    // Nothing reached the target, so no pending secret is kept and the stored one is unchanged.
    expect(await store.findRotation(db(), tenantId, rotation!.id)).toMatchObject({ state: 'failed', error_code: 'ROTATION_AUTH_FAILED', pending_secret_sealed: null });
    expect(await currentSecret(t.runtime, tenantId, credentialId)).toMatchObject({ secret: 'Not-the-password-1', version: 1 });
    expect(await heartbeat.statusOf(tenantId, credentialId)).toMatchObject({ status: 'out_of_sync' });
    t.clock.advance(60_000);
    await heartbeat.beat();
    expect(await rotationsOf(credentialId)).toHaveLength(1);
  });

  it('a rotation that leaves the target taking neither secret is reset at once by its job', async (c) => {
    if (!pgTarget) return c.skip();
    const [role, superuser] = await Promise.all([pgTarget.createRole(), pgTarget.createRole({ superuser: true })]);
    const { deviceId, credentialId: resetterId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, superuser);
    const { credentialId } = await addCredential(t.runtime, tenantId, deviceId, { username: role.username, password: 'Stale-password-1' }, { reconcileCredentialId: resetterId });
    const { engine, rotations, queue } = rotationOf(t.runtime);
    const handlers = rotationJobHandlers({ engine, rotations, queue, db: db(), audit: t.runtime.audit, clock: t.clock, log: createLogger({ level: 'silent' }) });
    const manual = await rotations.request(tenantActor(tenantId), credentialId);
    const job = { id: 'j', kind: ROTATION_JOB, tenantId, payload: { tenantId, rotationId: manual.id }, maxAttempts: 1 } as unknown as Parameters<(typeof handlers)[string]>[0];
    await handlers[ROTATION_JOB]!(job, { attempt: 1 } as Parameters<(typeof handlers)[string]>[1]);
    expect(await store.findRotation(db(), tenantId, manual.id)).toMatchObject({ state: 'failed', error_code: 'ROTATION_OUT_OF_SYNC' });
    const reset = (await rotationsOf(credentialId)).find((r) => r.trigger === 'reconcile')!;
    expect(reset).toMatchObject({ state: 'scheduled' });
    expect(await engine.run(tenantId, reset.id)).toEqual({ state: 'succeeded', retry: false });
    const current = await currentSecret(t.runtime, tenantId, credentialId);
    const ctx = { username: role.username, timeoutMs: 5_000, info: {}, dial: () => loopbackDialer({ tenantId, host: '127.0.0.1', port: pgTarget!.port }) };
    expect(await postgresPlugin.verify(ctx, { secret: current.secret })).toBe(true);
    expect(await actions(credentialId)).toContain('credential.reconciled');
  });
});
