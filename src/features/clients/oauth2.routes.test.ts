import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
/** client_secret_basic: both halves form-encoded, then base64 (RFC 6749 section 2.3.1). */
const basic = (id: string, secret: string, encode: (text: string) => string = encodeURIComponent) => ({ authorization: `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}` });
/** Percent-encodes every character: a server that skips the form-decoding step cannot read these credentials. */
const encodeAll = (text: string) => [...Buffer.from(text)].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');

describe.each(dialects)('the OAuth2 token route on %s', (dialect) => {
  let t: TestApp;
  let proxied: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    proxied = await createTestApp(dialect, { trustedProxies: ['127.0.0.1'], clientTokenRateLimit: { max: 3, windowMs: 60_000 } });
    admin = await t.tenantWithAdmin('oauth-a');
  });
  afterAll(async () => {
    await t.close();
    await proxied.close();
  });

  /** Creates a client in a tenant of an app; answers its public id, row id and secret. */
  async function client(body: object, app = t, token = admin.token) {
    const res = await app.app.inject({ method: 'POST', url: '/api/v1/clients', headers: bearer(token), payload: body });
    expect(res.statusCode, res.body).toBe(201);
    return { id: res.json().client.id as string, clientId: res.json().client.clientId as string, secret: res.json().clientSecret as string };
  }
  const token = (fields: Record<string, string>, headers: Record<string, string> = {}, app = t) =>
    app.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', headers: { ...FORM, ...headers }, payload: form(fields) });
  const failures = async (clientRowId: string, tenantId = admin.id, app = t) =>
    (await app.runtime.database.db.selectFrom('audit_events').select(['details', 'actor_kind', 'actor_id', 'outcome']).where('tenant_id', '=', tenantId).where('action', '=', 'auth.client_token.failed').where('target_id', '=', clientRowId).orderBy('seq').execute())
      .map((e) => ({ ...e, details: JSON.parse(e.details) }));

  /** An RFC 6749 section 5.2 answer: exactly error and error_description, never cached. */
  function expectOAuthError(res: Awaited<ReturnType<typeof token>>, status: number, error: string) {
    expect(res.statusCode, res.body).toBe(status);
    expect(Object.keys(res.json()).sort()).toEqual(['error', 'error_description']);
    expect(res.json().error).toBe(error);
    expect(res.json().error_description.length).toBeGreaterThan(10);
    expect(res.headers['cache-control']).toBe('no-store');
  }

  it('issues a bearer token for a form-encoded request with every scope of the client, marked no-store, and audits it', async () => {
    const c = await client({ name: 'Form client', scopes: ['settings.network.read', 'identity.users.read'] });
    const res = await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.secret });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ access_token: expect.stringMatching(/^cct_[A-Za-z0-9_-]{43}$/), token_type: 'Bearer', expires_in: 3600, scope: 'identity.users.read settings.network.read' });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    const events = await t.runtime.database.db.selectFrom('audit_events').select(['details', 'actor_kind', 'actor_id', 'actor_ip']).where('tenant_id', '=', admin.id).where('action', '=', 'auth.client_token.issued').where('target_id', '=', c.id).orderBy('seq').execute();
    expect(events).toHaveLength(1);
    expect({ ...events[0], details: JSON.parse(events[0]!.details) }).toEqual({
      actor_kind: 'client', actor_id: c.id, actor_ip: '127.0.0.1',
      details: { clientId: c.clientId, tokenId: expect.any(String), scopes: ['identity.users.read', 'settings.network.read'], expiresAt: '2026-01-05T10:00:00.000Z' },
    });
    expect(events[0]!.details).not.toContain(res.json().access_token);
    expect(events[0]!.details).not.toContain(c.secret);
    const view = (await t.app.inject({ method: 'GET', url: `/api/v1/clients/${c.id}`, headers: bearer(admin.token) })).json().client;
    expect(view.lastTokenAt).toBe('2026-01-05T09:00:00.000Z');
  });

  it('accepts a JSON body, and HTTP Basic whose halves are form-encoded', async () => {
    const c = await client({ name: 'Basic client', scopes: ['identity.users.read'] });
    const json = await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', payload: { grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.secret } });
    expect(json.statusCode, json.body).toBe(200);
    const plain = await token({ grant_type: 'client_credentials' }, basic(c.clientId, c.secret));
    expect(plain.statusCode, plain.body).toBe(200);
    const encoded = await token({ grant_type: 'client_credentials' }, basic(c.clientId, c.secret, encodeAll));
    expect(encoded.statusCode, encoded.body).toBe(200);
    const charset = await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8', ...basic(c.clientId, c.secret) }, payload: 'grant_type=client_credentials&unknown_parameter=ignored' });
    expect(charset.statusCode, charset.body).toBe(200);
    // Basic alongside the same client_id in the body is fine; a second secret is not.
    expect((await token({ grant_type: 'client_credentials', client_id: c.clientId }, basic(c.clientId, c.secret))).statusCode).toBe(200);
    const tokens = new Set([json, plain, encoded, charset].map((r) => r.json().access_token));
    expect(tokens.size).toBe(4);
  });

  it('a wrong secret, an unknown client or no credentials answer 401 invalid_client with WWW-Authenticate; a known client\'s failure is audited without the secret', async () => {
    const c = await client({ name: 'Guessed client', scopes: ['identity.users.read'] });
    const wrongSecret = `ccs_${'A'.repeat(43)}`;
    for (const res of [
      await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: wrongSecret }),
      await token({ grant_type: 'client_credentials' }, basic(c.clientId, wrongSecret)),
      await token({ grant_type: 'client_credentials' }, basic(c.clientId, c.secret.slice(0, -1))),
      await token({ grant_type: 'client_credentials', client_id: 'cci_AAAAAAAAAAAAAAAAAAAAAA', client_secret: c.secret }),
      await token({ grant_type: 'client_credentials' }),
      await token({ grant_type: 'client_credentials', client_id: c.clientId }),
      await token({ grant_type: 'client_credentials' }, { authorization: `Bearer ${c.secret}` }),
      await token({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(c.clientId).toString('base64')}` }),
      await token({ grant_type: 'client_credentials' }, { authorization: `Basic ${Buffer.from(`${c.clientId}:%zz`).toString('base64')}` }),
    ]) {
      expectOAuthError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate']).toMatch(/^Basic realm="custos"/);
    }
    const audited = await failures(c.id);
    expect(audited.map((e) => e.details)).toEqual(Array(3).fill({ clientId: c.clientId, reason: 'wrong_secret' }));
    expect(audited.every((e) => e.outcome === 'failure' && e.actor_kind === 'client')).toBe(true);
    expect(JSON.stringify(audited)).not.toContain(wrongSecret);
  });

  it('grant_type is required and must be client_credentials', async () => {
    const c = await client({ name: 'Grant client', scopes: ['identity.users.read'] });
    expectOAuthError(await token({ client_id: c.clientId, client_secret: c.secret }), 400, 'invalid_request');
    expectOAuthError(await token({}, basic(c.clientId, c.secret)), 400, 'invalid_request');
    expectOAuthError(await token({ grant_type: 'password', client_id: c.clientId, client_secret: c.secret }), 400, 'unsupported_grant_type');
    expectOAuthError(await token({ grant_type: 'authorization_code' }, basic(c.clientId, c.secret)), 400, 'unsupported_grant_type');
    expect((await failures(c.id)).map((e) => e.details.reason)).toEqual(['missing_grant_type', 'missing_grant_type', 'unsupported_grant_type', 'unsupported_grant_type']);
  });

  it('scope narrows the token to a subset of the client\'s scopes; anything else is invalid_scope', async () => {
    const c = await client({ name: 'Scoped client', scopes: ['identity.users.read', 'settings.network.read', 'audit.events.read'] });
    const ask = (scope: string) => token({ grant_type: 'client_credentials', scope }, basic(c.clientId, c.secret));
    const narrowed = await ask('settings.network.read identity.users.read identity.users.read');
    expect(narrowed.statusCode, narrowed.body).toBe(200);
    expect(narrowed.json().scope).toBe('identity.users.read settings.network.read');
    const stored = await t.runtime.database.db.selectFrom('client_tokens').select('scopes').where('tenant_id', '=', admin.id).where('client_id', '=', c.id).executeTakeFirstOrThrow();
    expect(JSON.parse(stored.scopes)).toEqual(['identity.users.read', 'settings.network.read']);
    for (const scope of ['identity.users.write', 'identity.users.read settings.security.write', 'not-a-permission', '', '   ']) {
      const res = await ask(scope);
      expectOAuthError(res, 400, 'invalid_scope');
    }
    expect((await ask('identity.users.read settings.security.write')).json().error_description).toContain('settings.security.write');
    expect((await failures(c.id)).map((e) => e.details.reason)).toEqual(Array(6).fill('invalid_scope'));
  });

  it('malformed requests answer invalid_request in the RFC 6749 shape', async () => {
    const c = await client({ name: 'Malformed client', scopes: ['identity.users.read'] });
    const repeated = `grant_type=client_credentials&client_id=${c.clientId}&client_id=${c.clientId}&client_secret=${c.secret}`;
    expectOAuthError(await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', headers: FORM, payload: repeated }), 400, 'invalid_request');
    expectOAuthError(await token({ grant_type: 'client_credentials', client_secret: c.secret }, basic(c.clientId, c.secret)), 400, 'invalid_request');
    expectOAuthError(await token({ grant_type: 'client_credentials', client_id: 'cci_other' }, basic(c.clientId, c.secret)), 400, 'invalid_request');
    expectOAuthError(await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', headers: { 'content-type': 'text/plain' }, payload: 'grant_type=client_credentials' }), 400, 'invalid_request');
    expectOAuthError(await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', headers: { 'content-type': 'application/json' }, payload: '{"grant_type":' }), 400, 'invalid_request');
    expectOAuthError(await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', payload: { grant_type: 'client_credentials', client_id: 42, client_secret: c.secret } }), 400, 'invalid_request');
    expectOAuthError(await token({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: 'x'.repeat(20_000) }), 400, 'invalid_request');
  });

  it('an inactive or expired client gets invalid_client, a suspended tenant unauthorized_client; each is audited', async () => {
    const inactive = await client({ name: 'Inactive client', scopes: ['identity.users.read'] });
    await t.app.inject({ method: 'PATCH', url: `/api/v1/clients/${inactive.id}`, headers: bearer(admin.token), payload: { status: 'inactive' } });
    expectOAuthError(await token({ grant_type: 'client_credentials' }, basic(inactive.clientId, inactive.secret)), 401, 'invalid_client');
    expect((await failures(inactive.id)).map((e) => e.details.reason)).toEqual(['client_inactive']);

    const expiring = await client({ name: 'Expiring client', scopes: ['identity.users.read'], expiresAt: new Date(t.clock.now() + 10 * 60_000).toISOString() });
    const early = await token({ grant_type: 'client_credentials' }, basic(expiring.clientId, expiring.secret));
    // A token never outlives its client.
    expect(early.json().expires_in).toBe(600);
    t.clock.advance(10 * 60_000);
    const late = await token({ grant_type: 'client_credentials' }, basic(expiring.clientId, expiring.secret));
    expectOAuthError(late, 401, 'invalid_client');
    expect(late.json().error_description).toContain('expired');
    expect((await failures(expiring.id)).map((e) => e.details.reason)).toEqual(['client_expired']);

    const suspended = await t.tenantWithAdmin('oauth-suspended');
    const s = await client({ name: 'Suspended tenant client', scopes: ['identity.users.read'] }, t, suspended.token);
    expect((await t.app.inject({ method: 'POST', url: '/ops/v1/tenants/oauth-suspended/suspend', headers: bearer(t.operatorToken) })).statusCode).toBe(200);
    expectOAuthError(await token({ grant_type: 'client_credentials' }, basic(s.clientId, s.secret)), 400, 'unauthorized_client');
    expect((await failures(s.id, suspended.id)).map((e) => e.details.reason)).toEqual(['tenant_suspended']);
  });

  it("the source address must be inside the client's allowedCidrs and the tenant's allowlist", async () => {
    const owner = await proxied.tenantWithAdmin('oauth-net');
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const c = await client({ name: 'Ranged client', scopes: ['identity.users.read'], allowedCidrs: ['203.0.113.0/24', '2001:db8::/32'] }, proxied, owner.token);
    const ask = (ip: string) => token({ grant_type: 'client_credentials' }, { ...basic(c.clientId, c.secret), ...from(ip) }, proxied);
    expect((await ask('203.0.113.9')).statusCode).toBe(200);
    expect((await ask('2001:db8::7')).statusCode).toBe(200);
    const outside = await ask('198.51.100.7');
    expectOAuthError(outside, 400, 'unauthorized_client');
    expect(outside.json().error_description).toContain('198.51.100.7');
    const network = await proxied.app.inject({ method: 'PUT', url: '/api/v1/settings/network', headers: { ...bearer(owner.token), ...from('2001:db8::1') }, payload: { allowedCidrs: ['2001:db8::/32'] } });
    expect(network.statusCode, network.body).toBe(200);
    expectOAuthError(await ask('203.0.113.9'), 400, 'unauthorized_client');
    expect((await ask('2001:db8::7')).statusCode).toBe(200);
    expect((await failures(c.id, owner.id, proxied)).map((e) => e.details.reason)).toEqual(['client_network_not_allowed', 'network_not_allowed']);
  });

  it('the route is rate-limited per source address: 429 slow_down with Retry-After, other addresses unaffected', async () => {
    const ask = (ip: string) => token({ grant_type: 'client_credentials', client_id: 'cci_AAAAAAAAAAAAAAAAAAAAAA', client_secret: 'nope' }, { 'x-forwarded-for': ip }, proxied);
    for (let i = 0; i < 3; i += 1) expect((await ask('192.0.2.10')).statusCode).toBe(401);
    const limited = await ask('192.0.2.10');
    expectOAuthError(limited, 429, 'slow_down');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await ask('192.0.2.11')).statusCode).toBe(401);
  });

  it('the form parser belongs to the token route alone: other routes still refuse form bodies', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', headers: FORM, payload: form({ tenant: admin.slug, username: admin.username, password: admin.password }) });
    expect(login.statusCode).toBe(415);
    expect(login.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const create = await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers: { ...FORM, ...bearer(admin.token) }, payload: form({ name: 'x' }) });
    expect(create.statusCode).toBe(415);
  });

  it('the token route is public and documented in /openapi.json', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const post = doc.paths['/api/v1/oauth2/token'].post;
    expect(post.security).toBeUndefined();
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '429']));
  });
});
