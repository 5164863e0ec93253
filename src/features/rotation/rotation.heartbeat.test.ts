import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { startPostgresTarget, type PostgresTarget } from '../../../test/support/postgres-target.js';
import { addAccount, loopbackDialer, rotationOf } from './fixtures/harness.js';
import { postgresPlugin } from './plugins/postgres.js';
import { createHeartbeat } from './rotation.heartbeat.js';

let pgTarget: PostgresTarget | null = null;
beforeAll(async () => {
  pgTarget = await startPostgresTarget();
}, 120_000);
afterAll(async () => pgTarget?.stop());

describe.each(dialects)('the heartbeat on %s', (dialect) => {
  let t: TestApp;
  let tenantId: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    tenantId = (await t.tenantWithAdmin('beat')).id;
  });
  afterAll(() => t.close());

  it('a stored secret that stops logging in marks the credential out of sync, with one credential.out_of_sync event per change', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: pgTarget.port }, role);
    // A closed port: unreachable says nothing about the secret.
    const { credentialId: gone } = await addAccount(t.runtime, tenantId, { protocol: 'postgres', port: 1 }, { username: 'nobody', password: 'Whatever-1' });
    const heartbeat = createHeartbeat({ db: t.runtime.database.db, audit: t.runtime.audit, clock: t.clock, engine: rotationOf(t.runtime, { timeoutMs: 2_000 }).engine });
    await heartbeat.beat();
    expect(await heartbeat.statusOf(tenantId, credentialId)).toMatchObject({ status: 'ok', errorCode: null });
    expect(await heartbeat.statusOf(tenantId, gone)).toMatchObject({ status: 'unreachable', errorCode: 'ROTATION_TARGET_UNREACHABLE' });

    const ctx = { username: role.username, timeoutMs: 5_000, info: {}, dial: () => loopbackDialer({ tenantId, host: '127.0.0.1', port: pgTarget!.port }) };
    await postgresPlugin.change(ctx, { current: { secret: role.password }, next: { secret: 'Changed-behind-the-vault-1' } });
    t.clock.advance(60_000);
    await heartbeat.beat();
    t.clock.advance(60_000);
    await heartbeat.beat();
    expect(await heartbeat.statusOf(tenantId, credentialId)).toMatchObject({ status: 'out_of_sync' });
    const events = await t.runtime.database.db.selectFrom('audit_events').select(['action', 'details']).where('tenant_id', '=', tenantId).where('target_id', '=', credentialId).where('action', '=', 'credential.out_of_sync').orderBy('seq').execute();
    expect(events.map((e) => JSON.parse(e.details))).toEqual([{ detectedBy: 'heartbeat' }]);
  });
});
