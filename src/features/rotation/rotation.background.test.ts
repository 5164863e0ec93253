import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { startPostgresTarget, type PostgresTarget } from '../../../test/support/postgres-target.js';
import { apiCall } from '../../../test/support/users.js';
import { startBackgroundWork } from '../../main/background.js';
import { addAccount, currentSecret } from './fixtures/harness.js';

let pgTarget: PostgresTarget | null = null;
beforeAll(async () => {
  pgTarget = await startPostgresTarget();
}, 120_000);
afterAll(async () => pgTarget?.stop());

describe.each(dialects)('rotation through the background worker on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('rot-bg');
  });
  afterAll(async () => t.close());

  it('a requested rotation runs as a job and reaches the target only through the guard: loopback not allowlisted is refused, nothing lost', async (c) => {
    if (!pgTarget) return c.skip();
    const role = await pgTarget.createRole();
    const { credentialId } = await addAccount(t.runtime, admin.id, { protocol: 'postgres', port: pgTarget.port }, role);
    const background = await startBackgroundWork(t.runtime);
    try {
      const { rotation } = (await apiCall(t, 'POST', `/credentials/${credentialId}/rotate`, admin.token)).json();
      const deadline = Date.now() + 15_000;
      let state = 'scheduled';
      while (Date.now() < deadline && (state === 'scheduled' || state === 'running')) {
        await new Promise((r) => setTimeout(r, 100));
        state = (await apiCall(t, 'GET', `/rotations/${rotation.id}`, admin.token)).json().rotation.state;
      }
      // The test app's configuration allowlists no range, so the guard refuses 127.0.0.1: a permanent failure.
      const after = (await apiCall(t, 'GET', `/rotations/${rotation.id}`, admin.token)).json().rotation;
      expect(after).toMatchObject({ state: 'failed', error: { code: 'ROTATION_TARGET_REFUSED' }, hasPendingSecret: false });
      expect(await currentSecret(t.runtime, admin.id, credentialId)).toMatchObject({ secret: role.password, version: 1 });
    } finally {
      await background.stop();
    }
  });
});
