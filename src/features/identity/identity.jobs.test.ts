import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/log.js';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { identityJobHandlers } from './identity.jobs.js';

describe.each(dialects)('identity housekeeping on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  it('purges sessions a day after they ended and keeps live ones', async () => {
    const ended = await t.tenantWithAdmin('purge-a');
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(ended.token) });
    const purge = identityJobHandlers({ db: t.runtime.database.db, clock: t.clock, log: createLogger({ level: 'silent' }) })['identity.purge-ended'];
    const count = async () => (await t.runtime.database.db.selectFrom('sessions').select('id').execute()).length;
    expect(await count()).toBe(1);
    t.clock.advance(23 * 3600_000);
    await purge();
    expect(await count()).toBe(1);
    t.clock.advance(2 * 3600_000);
    const live = await t.tenantWithAdmin('purge-b');
    await purge();
    expect(await count()).toBe(1);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(live.token) })).statusCode).toBe(200);
  });
});
