import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { USER_PASSWORD } from '../../../test/support/users.js';
import { auditEvents, createScimToken, scim, sessionOf } from './fixtures/support.js';

/** One request of a provider's documented sequence, as data (fixtures/okta.json, fixtures/entra.json). */
interface Step {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  status: number;
  expect?: Record<string, unknown>;
  absent?: string[];
  capture?: Record<string, string>;
}
interface Replay {
  provider: string;
  contentType: string;
  steps: Step[];
}

const load = (file: string) => JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as Replay;

/** Replaces {{name}} in every string of a value with what earlier steps captured. */
function fill<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => vars[name] ?? `{{${name}}}`) as T;
  if (Array.isArray(value)) return value.map((v) => fill(v, vars)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)])) as T;
  return value;
}

/**
 * Runs a provider's sequence step by step, checking each answer; `after` holds the checks that need more than
 * the SCIM answer (a user's real session, the audit log), keyed by step name.
 */
async function replay(t: TestApp, token: string, script: Replay, after: Record<string, (vars: Record<string, string>) => Promise<void>>) {
  const vars: Record<string, string> = {};
  for (const step of script.steps) {
    const res = await scim(t, token, step.method, fill(step.path, vars), { query: fill(step.query, vars), body: fill(step.body, vars), contentType: script.contentType });
    expect(res.statusCode, `${script.provider} / ${step.name}: ${res.body}`).toBe(step.status);
    if (res.body !== '') expect(res.headers['content-type'], step.name).toMatch(/^application\/scim\+json/);
    if (step.expect) expect(res.json(), `${script.provider} / ${step.name}`).toMatchObject(fill(step.expect, vars));
    for (const key of step.absent ?? []) expect(res.json(), step.name).not.toHaveProperty(key);
    for (const [name, path] of Object.entries(step.capture ?? {})) vars[name] = String(path.split('.').reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], res.json()));
    await after[step.name]?.(vars);
  }
  return vars;
}

describe.each(dialects)('identity providers replayed on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(async () => t.close());

  const me = (session: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(session) });
  const login = (slug: string, username: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { tenant: slug, username, password: USER_PASSWORD } });

  it('Okta: provisions, updates, deactivates (the open session ends, audited with reason scim), reactivates and pushes a group', async () => {
    const admin = await t.tenantWithAdmin('okta-replay');
    const token = await createScimToken(t, admin);
    const sessions: Record<string, string> = {};
    const vars = await replay(t, token, load('okta.json'), {
      'create user': async ({ userId }) => {
        sessions.first = await sessionOf(t, admin, userId!, 'rue.lucas@example.com');
        expect((await me(sessions.first)).statusCode).toBe(200);
      },
      'deactivate user': async ({ userId }) => {
        expect((await me(sessions.first!)).statusCode).toBe(401);
        const [event] = (await auditEvents(t, admin.id, 'user.deactivated')).filter((e) => e.target_id === userId);
        expect(event).toMatchObject({ actor_kind: 'scim', details: { reason: 'scim', sessionsRevoked: 1 } });
      },
      'reactivate user': async () => {
        expect((await me(sessions.first!)).statusCode).toBe(401);
        const fresh = await login(admin.slug, 'rue.lucas@example.com');
        expect(fresh.statusCode, fresh.body).toBe(200);
        sessions.second = fresh.json().token;
      },
      'deprovision user': async () => {
        expect((await me(sessions.second!)).statusCode).toBe(401);
      },
    });
    const actions = (await auditEvents(t, admin.id, '')).filter((e) => e.actor_kind === 'scim').map((e) => e.action);
    expect(actions).toEqual(['user.created', 'user.updated', 'auth.sessions.revoked', 'user.deactivated', 'user.reactivated', 'group.created', 'group.updated', 'group.members.added', 'group.members.removed', 'group.deleted', 'auth.sessions.revoked', 'user.deactivated']);
    expect(vars.userId).toBeTruthy();
  });

  it('Microsoft Entra ID: provisions, patches, disables (the open session ends), enables, manages a group and deletes the user', async () => {
    const admin = await t.tenantWithAdmin('entra-replay');
    const token = await createScimToken(t, admin);
    const sessions: Record<string, string> = {};
    await replay(t, token, load('entra.json'), {
      'create user': async ({ userId }) => {
        sessions.first = await sessionOf(t, admin, userId!, 'test_user_4c6f2a9e@testuser.com');
      },
      'disable user': async ({ userId }) => {
        const next = await me(sessions.first!);
        expect(next.statusCode).toBe(401);
        expect(next.json().error.code).toBe('SESSION_REVOKED');
        const [event] = (await auditEvents(t, admin.id, 'user.deactivated')).filter((e) => e.target_id === userId);
        expect(event).toMatchObject({ actor_kind: 'scim', details: { reason: 'scim' } });
      },
      'enable user': async () => {
        expect((await me(sessions.first!)).statusCode).toBe(401);
        // Renamed by the single-valued PATCH before: the new login name is the one that works.
        const fresh = await login(admin.slug, '5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com');
        expect(fresh.statusCode, fresh.body).toBe(200);
        sessions.second = fresh.json().token;
      },
      'delete user': async ({ userId }) => {
        expect((await me(sessions.second!)).statusCode).toBe(401);
        const events = (await auditEvents(t, admin.id, 'user.')).filter((e) => e.target_id === userId).map((e) => [e.action, e.details.reason ?? null]);
        expect(events.slice(-2)).toEqual([['user.deactivated', 'scim'], ['user.deleted', null]]);
      },
    });
  });

  it('discovery: ServiceProviderConfig, ResourceTypes and Schemas answer with the token, and not without it', async () => {
    const admin = await t.tenantWithAdmin('scim-discovery');
    const token = await createScimToken(t, admin);
    const config = await scim(t, token, 'GET', '/ServiceProviderConfig');
    expect(config.statusCode).toBe(200);
    expect(config.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'], patch: { supported: true }, bulk: { supported: false }, filter: { supported: true, maxResults: 200 }, sort: { supported: false }, authenticationSchemes: [{ type: 'oauthbearertoken' }] });
    const types = (await scim(t, token, 'GET', '/ResourceTypes')).json();
    expect(types.Resources.map((r: { id: string; endpoint: string }) => [r.id, r.endpoint])).toEqual([['User', '/Users'], ['Group', '/Groups']]);
    expect((await scim(t, token, 'GET', '/ResourceTypes/User')).json().schema).toBe('urn:ietf:params:scim:schemas:core:2.0:User');
    const schemas = (await scim(t, token, 'GET', '/Schemas')).json();
    expect(schemas.totalResults).toBe(2);
    const user = (await scim(t, token, 'GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User')).json();
    expect(user.attributes.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['userName', 'name', 'emails', 'active', 'externalId', 'groups']));
    expect((await scim(t, token, 'GET', '/Schemas/urn:example:nothing')).statusCode).toBe(404);
    expect((await scim(t, token, 'GET', '/Schemas', { query: { filter: 'id eq "x"' } })).statusCode).toBe(403);
    for (const path of ['/ServiceProviderConfig', '/ResourceTypes', '/Schemas']) expect((await t.app.inject({ method: 'GET', url: `/scim/v2${path}` })).statusCode, path).toBe(401);
  });

  it('/openapi.json documents the SCIM routes and the token routes', async () => {
    const doc = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(doc.statusCode, doc.body).toBe(200);
    for (const path of ['/scim/v2/Users', '/scim/v2/Users/{id}', '/scim/v2/Groups', '/scim/v2/Groups/{id}', '/scim/v2/ServiceProviderConfig', '/api/v1/settings/scim', '/api/v1/settings/scim/token']) {
      expect(doc.json().paths, path).toHaveProperty([path]);
    }
  });
});
