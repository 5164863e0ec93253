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
    const purge = identityJobHandlers({ db: t.runtime.database.db, clock: t.clock, log: createLogger({ level: 'silent' }), deactivate: t.runtime.services.deactivate })['identity.purge-ended'];
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

  it('disables users inactive past the tenant limit through the deactivation path, but never the last active admin', async () => {
    const admin = await t.tenantWithAdmin('inactive-a');
    const quiet = await t.tenantWithAdmin('inactive-b');
    await t.app.inject({ method: 'PUT', url: '/api/v1/settings/security', headers: bearer(quiet.token), payload: { inactivityDisableDays: 0 } });
    const created = (await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: bearer(admin.token), payload: { username: 'sleeper', email: 's@x.example' } })).json();
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/activate', payload: { tenant: 'inactive-a', token: created.activation.token, password: 'a sleepy password' } });
    const session = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: 'inactive-a', username: 'sleeper', password: 'a sleepy password' } })).json().token;
    const handlers = identityJobHandlers({ db: t.runtime.database.db, clock: t.clock, log: createLogger({ level: 'silent' }), deactivate: t.runtime.services.deactivate });
    t.clock.advance(89 * 24 * 3600_000);
    await handlers['identity.disable-inactive']();
    const statusOf = async (tenantId: string, username: string) =>
      (await t.runtime.database.db.selectFrom('users').select('status').where('tenant_id', '=', tenantId).where('username', '=', username).executeTakeFirstOrThrow()).status;
    expect(await statusOf(admin.id, 'sleeper')).toBe('active');
    t.clock.advance(2 * 24 * 3600_000);
    await handlers['identity.disable-inactive']();
    expect(await statusOf(admin.id, 'sleeper')).toBe('inactive');
    expect(await statusOf(admin.id, admin.username)).toBe('active');
    expect(await statusOf(quiet.id, quiet.username)).toBe('active');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(session) })).statusCode).toBe(401);
    const event = await t.runtime.database.db.selectFrom('audit_events').select(['details', 'actor_kind']).where('tenant_id', '=', admin.id).where('action', '=', 'user.deactivated').executeTakeFirstOrThrow();
    expect(event.actor_kind).toBe('system');
    expect(JSON.parse(event.details)).toMatchObject({ reason: 'inactivity' });
  });
});
