import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, USER_PASSWORD } from '../../../test/support/users.js';
import { buildApp } from '../../main/app.js';
import { createLogger } from '../../platform/log.js';
import { auditEvents, createScimToken, scim, sessionOf, userBody } from './fixtures/support.js';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

describe.each(dialects)('SCIM deprovisioning on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('scim-deprov');
    token = await createScimToken(t, admin);
  });
  afterAll(async () => t.close());

  const me = (session: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(session) });
  const login = (username: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: admin.slug, username, password: USER_PASSWORD } });
  const setActive = (id: string, value: unknown, form: 'okta' | 'entra' = 'okta') =>
    scim(t, token, 'PATCH', `/Users/${id}`, {
      body: { schemas: [PATCH_OP], Operations: [form === 'okta' ? { op: 'replace', value: { active: value } } : { op: 'Replace', path: 'active', value }] },
    });
  const tokenId = async () => (await t.runtime.database.db.selectFrom('scim_tokens').select('id').where('tenant_id', '=', admin.id).executeTakeFirstOrThrow()).id;
  const eventsFor = async (userId: string, prefix: string) => (await auditEvents(t, admin.id, prefix)).filter((e) => e.target_id === userId);

  it("PATCH active false runs the deactivation path: the user's open session answers 401 on its next request, audited with reason scim", async () => {
    // A user created the normal way (admin creates, the user activates and logs in), found by the IdP by userName.
    const user = await activeUser(t, admin, 'leaver');
    expect((await me(user.token)).statusCode).toBe(200);
    const found = (await scim(t, token, 'GET', '/Users', { query: { filter: 'userName eq "leaver"' } })).json();
    expect(found.Resources.map((r: { id: string }) => r.id)).toEqual([user.id]);
    const res = await setActive(user.id, 'False', 'entra');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().active).toBe(false);
    const next = await me(user.token);
    expect(next.statusCode).toBe(401);
    expect(next.json().error.code).toBe('SESSION_REVOKED');
    expect((await login('leaver')).json().error.code).toBe('USER_DISABLED');
    const [deactivated] = await eventsFor(user.id, 'user.deactivated');
    expect(deactivated).toMatchObject({ actor_kind: 'scim', actor_id: await tokenId(), details: { reason: 'scim', sessionsRevoked: 1 } });
    const [revoked] = await eventsFor(user.id, 'auth.sessions.revoked');
    expect(revoked).toMatchObject({ actor_kind: 'scim', details: { reason: 'user_scim', count: 1 } });
    // Saying it again changes nothing and audits nothing more.
    expect((await setActive(user.id, false)).statusCode).toBe(200);
    expect(await eventsFor(user.id, 'user.deactivated')).toHaveLength(1);
  });

  it('PATCH active true reactivates: no old session revives, a new login works', async () => {
    const user = await activeUser(t, admin, 'returner');
    expect((await setActive(user.id, false)).statusCode).toBe(200);
    const back = await setActive(user.id, true);
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json().active).toBe(true);
    expect((await me(user.token)).statusCode).toBe(401);
    const fresh = await login('returner');
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect((await me(fresh.json().token)).statusCode).toBe(200);
    expect(await eventsFor(user.id, 'user.reactivated')).toEqual([expect.objectContaining({ actor_kind: 'scim' })]);
  });

  it('the directory revives only whom it deactivated: a user an administrator deactivated in Custos stays inactive (409)', async () => {
    const user = await activeUser(t, admin, 'fired-in-custos');
    expect((await t.app.inject({ method: 'PATCH', url: `/api/v1/users/${user.id}`, headers: bearer(admin.token), payload: { status: 'inactive' } })).statusCode).toBe(200);
    const res = await setActive(user.id, true);
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toContain('reactivates them in Custos');
    expect((await login('fired-in-custos')).statusCode).toBe(403);
    const row = await t.runtime.database.db.selectFrom('users').select(['status', 'deactivation_reason']).where('tenant_id', '=', admin.id).where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'inactive', deactivation_reason: 'deactivated' });
  });

  it('a SCIM-created user has no password; after an activation an administrator issued, their session ends on deactivation too', async () => {
    const created = (await scim(t, token, 'POST', '/Users', { body: userBody('sso.person@acme.example') })).json();
    expect((await login('sso.person@acme.example')).statusCode).toBe(401);
    const session = await sessionOf(t, admin, created.id, 'sso.person@acme.example');
    expect((await me(session)).statusCode).toBe(200);
    expect((await setActive(created.id, false)).statusCode).toBe(200);
    expect((await me(session)).statusCode).toBe(401);
  });

  it('POST with active false creates the user deactivated, through the same path', async () => {
    const created = await scim(t, token, 'POST', '/Users', { body: userBody('born.inactive', { active: false }) });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().active).toBe(false);
    expect(await eventsFor(created.json().id, 'user.deactivated')).toEqual([expect.objectContaining({ details: expect.objectContaining({ reason: 'scim' }) })]);
  });

  it('DELETE deactivates (the session ends), then removes the user; the userName is free again', async () => {
    const user = await activeUser(t, admin, 'gone.user');
    const res = await scim(t, token, 'DELETE', `/Users/${user.id}`);
    expect(res.statusCode, res.body).toBe(204);
    expect(res.body).toBe('');
    expect((await me(user.token)).statusCode).toBe(401);
    expect((await scim(t, token, 'GET', `/Users/${user.id}`)).statusCode).toBe(404);
    expect((await scim(t, token, 'DELETE', `/Users/${user.id}`)).statusCode).toBe(404);
    const actions = (await auditEvents(t, admin.id, 'user.')).filter((e) => e.target_id === user.id).map((e) => [e.action, e.actor_kind, e.details.reason ?? null]);
    expect(actions.slice(-2)).toEqual([['user.deactivated', 'scim', 'scim'], ['user.deleted', 'scim', null]]);
    expect((await scim(t, token, 'POST', '/Users', { body: userBody('gone.user') })).statusCode).toBe(201);
  });

  it('the last active tenant-admin cannot be deactivated or deleted through SCIM (409); nothing changes', async () => {
    const adminId = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(admin.token) })).json().user.id;
    const deactivate = await setActive(adminId, false);
    expect(deactivate.statusCode).toBe(409);
    expect(deactivate.json()).toMatchObject({ status: '409', detail: expect.stringMatching(/last active tenant-admin/) });
    expect((await scim(t, token, 'DELETE', `/Users/${adminId}`)).statusCode).toBe(409);
    expect((await me(admin.token)).statusCode).toBe(200);
  });

  it('rate-limits each token from each address (429 as a SCIM error), leaving other tokens alone', async () => {
    const limited = await buildApp({ services: t.runtime.services, log: createLogger({ level: 'silent' }), version: 'test', checks: {}, scimRateLimit: { max: 3, windowMs: 60_000 } });
    try {
      const other = await t.tenantWithAdmin('scim-deprov-rl');
      const otherToken = await createScimToken(t, other);
      const call = (bearerToken: string) => limited.inject({ method: 'GET', url: '/scim/v2/Users?count=1', headers: bearer(bearerToken) });
      for (let i = 0; i < 3; i++) expect((await call(token)).statusCode).toBe(200);
      const refused = await call(token);
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(refused.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '429' });
      expect((await call(otherToken)).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
