import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { startTestIdp, type TestIdp } from '../../../test/support/oidc-idp.js';
import { callbackUrl, configureSso } from '../../../test/support/sso.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

describe.each(dialects)('SSO settings on %s', (dialect) => {
  let t: TestApp;
  let idp: TestIdp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  beforeAll(async () => {
    idp = await startTestIdp();
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('sso-set-a');
    other = await t.tenantWithAdmin('sso-set-b');
  });
  afterAll(async () => {
    await t.close();
    await idp.close();
  });

  const db = () => t.runtime.database.db;
  const put = (token: string, body: object) => apiCall(t, 'PUT', '/settings/sso', token, body);
  const get = (token: string) => apiCall(t, 'GET', '/settings/sso', token);
  const base = () => ({ enabled: true, issuer: idp.issuer, clientId: 'c', clientSecret: 's3cret-value', jitProvisioning: false, ssoOnly: false, breakGlassUsers: [] as string[] });
  const storedRow = (tenantId = admin.id) => db().selectFrom('tenant_settings').select(['value', 'updated_at']).where('tenant_id', '=', tenantId).where('key', '=', 'sso').executeTakeFirst();
  const ssoEvents = (tenantId = admin.id) => db().selectFrom('audit_events').select(['details', 'actor_id']).where('tenant_id', '=', tenantId).where('action', '=', 'settings.sso.updated').orderBy('seq').execute();

  it('GET before any save shows SSO off and the redirect URI to register at the IdP', async () => {
    const res = await get(admin.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ enabled: false, issuer: null, clientId: null, clientSecretSet: false, scopes: ['openid', 'email', 'profile'], groupClaim: 'groups', groupMapping: [], jitProvisioning: false, ssoOnly: false, breakGlassUsers: [], redirectUri: callbackUrl(t) });
  });

  it('PUT discovers the issuer, stores the settings and answers them; the client secret is never shown, audited or stored in plaintext', async () => {
    const group = (await apiCall(t, 'POST', '/groups', admin.token, { name: 'Ops' })).json().group;
    const secret = `idp-client-secret-${Math.random().toString(36).slice(2)}`;
    const { view } = await configureSso(t, admin.token, idp, { clientSecret: secret, scopes: ['email', 'groups', 'email'], groupClaim: 'roles', groupMapping: [{ claim: 'ops', group: 'Ops' }] });
    expect(view).toMatchObject({ enabled: true, issuer: idp.issuer, clientSecretSet: true, scopes: ['openid', 'email', 'groups'], groupClaim: 'roles', groupMapping: [{ claim: 'ops', group: group.id, groupName: 'Ops' }] });
    const shown = await get(admin.token);
    expect(shown.json()).toEqual(view);
    expect(shown.body).not.toContain(secret);
    const events = await ssoEvents();
    expect(JSON.parse(events.at(-1)!.details)).toMatchObject({ enabled: true, issuer: idp.issuer, credentialReplaced: true, groupMapping: [`ops -> ${group.id}`] });
    const everything = await db().selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).orderBy('seq').execute();
    expect(everything.some((e) => e.details.includes(secret))).toBe(false);
    const row = (await storedRow())!;
    expect(row.value).not.toContain(secret);
    const stored = JSON.parse(row.value);
    expect(stored.clientSecretSealed).toMatch(/^v1\.\d+\./);
    // Sealed with the tenant key and bound to this tenant: it opens here, and not as another tenant's.
    const context = { tenantId: admin.id, entity: 'sso_settings', id: admin.id, field: 'client_secret' };
    expect((await t.runtime.keyring.open(db(), context, stored.clientSecretSealed)).toString()).toBe(secret);
    await expect(t.runtime.keyring.open(db(), { ...context, tenantId: other.id, id: other.id }, stored.clientSecretSealed)).rejects.toThrow();
    // A later save without clientSecret keeps the stored one, and says so in the audit event.
    const again = await put(admin.token, { ...base(), clientId: view.clientId, clientSecret: undefined });
    expect(again.statusCode, again.body).toBe(200);
    expect(JSON.parse((await storedRow())!.value).clientSecretSealed).toBe(stored.clientSecretSealed);
    expect(JSON.parse((await ssoEvents()).at(-1)!.details).credentialReplaced).toBe(false);
  });

  it('only a caller holding every permission may point Custos at an identity provider (it could log in as anyone)', async () => {
    const role = await apiCall(t, 'POST', '/roles', admin.token, { name: 'sso-only-admin', permissions: ['settings.sso.read', 'settings.sso.write'] });
    expect(role.statusCode, role.body).toBe(201);
    const narrow = await activeUser(t, admin, 'sso-narrow', ['sso-only-admin']);
    const before = await storedRow(admin.id);
    const res = await put(narrow.token, base());
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('PERMISSION_NOT_HELD');
    expect(await storedRow(admin.id)).toEqual(before);
    expect((await get(narrow.token)).statusCode).toBe(200);
  });

  it('an unreachable issuer is a clear 400 SSO_DISCOVERY_FAILED and nothing is written', async () => {
    const before = await storedRow(other.id);
    for (const issuer of ['http://127.0.0.1:9/', `${idp.issuer}/not-the-issuer`]) {
      const res = await put(other.token, { ...base(), issuer });
      expect(res.statusCode, issuer).toBe(400);
      expect(res.json().error.code).toBe('SSO_DISCOVERY_FAILED');
      expect(res.json().error.message).toContain('.well-known/openid-configuration');
    }
    expect(await storedRow(other.id)).toEqual(before);
    expect(await ssoEvents(other.id)).toHaveLength(0);
  });

  it('disabled settings are saved without discovery (an IdP being retired must not block turning SSO off)', async () => {
    const res = await put(other.token, { ...base(), enabled: false, issuer: 'https://retired-idp.invalid' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ enabled: false, issuer: 'https://retired-idp.invalid' });
    expect((await t.app.inject({ method: 'GET', url: `/api/v1/auth/sso/start?tenant=${other.slug}` })).json().error.code).toBe('SSO_NOT_CONFIGURED');
  });

  it('bad input is a 400 with a code and writes nothing', async () => {
    const fresh = await t.tenantWithAdmin('sso-set-c');
    const cases: [object, string][] = [
      [{ ...base(), issuer: 'http://idp.example.com' }, 'VALIDATION_FAILED'],
      [{ ...base(), issuer: 'ftp://127.0.0.1' }, 'VALIDATION_FAILED'],
      [{ ...base(), issuer: 'https://idp.example.com/?x=1' }, 'VALIDATION_FAILED'],
      [{ ...base(), issuer: 'not a url' }, 'VALIDATION_FAILED'],
      [{ ...base(), enabled: 'yes' }, 'VALIDATION_FAILED'],
      [{ ...base(), unknown: 1 }, 'VALIDATION_FAILED'],
      [{ ...base(), clientId: '' }, 'VALIDATION_FAILED'],
      [{ ...base(), clientSecret: 'x'.repeat(1001) }, 'VALIDATION_FAILED'],
      [{ ...base(), scopes: ['has space'] }, 'VALIDATION_FAILED'],
      [{ ...base(), groupMapping: [{ claim: 'a' }] }, 'VALIDATION_FAILED'],
      [{ ...base(), breakGlassUsers: 'someone' }, 'VALIDATION_FAILED'],
      [{ ...base(), clientSecret: undefined }, 'SSO_CLIENT_SECRET_REQUIRED'],
      [{ ...base(), enabled: false, ssoOnly: true }, 'SSO_ONLY_REQUIRES_ENABLED'],
      [{ ...base(), groupMapping: [{ claim: 'a', group: 'No such group' }] }, 'SSO_GROUP_UNKNOWN'],
      [{ ...base(), breakGlassUsers: ['00000000-0000-7000-8000-000000000000'] }, 'UNKNOWN_USER'],
    ];
    for (const [body, code] of cases) {
      const res = await put(fresh.token, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code, JSON.stringify(body)).toBe(code);
    }
    expect(await storedRow(fresh.id)).toBeUndefined();
  });

  it("another tenant's group or user cannot be named: 400 as if it did not exist", async () => {
    const theirGroup = (await apiCall(t, 'POST', '/groups', other.token, { name: 'Theirs' })).json().group;
    const mapped = await put(admin.token, { ...base(), groupMapping: [{ claim: 'x', group: theirGroup.id }] });
    expect(mapped.json().error.code).toBe('SSO_GROUP_UNKNOWN');
    const named = await put(admin.token, { ...base(), groupMapping: [{ claim: 'x', group: 'Theirs' }] });
    expect(named.json().error.code).toBe('SSO_GROUP_UNKNOWN');
    const otherAdminId = (await apiCall(t, 'GET', '/auth/me', other.token)).json().user.id;
    const breakGlass = await put(admin.token, { ...base(), breakGlassUsers: [otherAdminId] });
    expect(breakGlass.json().error.code).toBe('UNKNOWN_USER');
    // And one tenant's GET never shows another's settings.
    expect((await get(other.token)).json().issuer).not.toBe(idp.issuer);
  });

  it('ssoOnly needs a valid break-glass admin: none, a non-admin or an admin without a password answers 409', async () => {
    const adminId = (await apiCall(t, 'GET', '/auth/me', admin.token)).json().user.id;
    const plainUser = await activeUser(t, admin, 'sso-plain');
    const pendingAdmin = (await apiCall(t, 'POST', '/users', admin.token, { username: 'pending-admin', email: 'pa@x.example', roles: ['tenant-admin'] })).json().user;
    const before = (await ssoEvents()).length;
    const none = await put(admin.token, { ...base(), ssoOnly: true });
    expect(none.statusCode).toBe(409);
    expect(none.json().error.code).toBe('BREAK_GLASS_REQUIRED');
    for (const id of [plainUser.id, pendingAdmin.id]) {
      const res = await put(admin.token, { ...base(), ssoOnly: true, breakGlassUsers: [adminId, id] });
      expect(res.statusCode).toBe(409);
      expect(res.json().error.code).toBe('BREAK_GLASS_INVALID');
    }
    expect((await ssoEvents()).length).toBe(before);
    const ok = await put(admin.token, { ...base(), ssoOnly: true, breakGlassUsers: [adminId] });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ ssoOnly: true, breakGlassUsers: [adminId] });
    expect((await put(admin.token, { ...base() })).statusCode).toBe(200);
  });

  it('permissions: the role user cannot read; an auditor reads but cannot write; a security-admin, lacking the vault permissions, may not; a tenant-admin writes', async () => {
    const user = await activeUser(t, admin, 'sso-perm-user');
    const auditor = await activeUser(t, admin, 'sso-perm-auditor', ['auditor']);
    const securityAdmin = await activeUser(t, admin, 'sso-perm-secadmin', ['security-admin']);
    const tenantAdmin = await activeUser(t, admin, 'sso-perm-tenantadmin', ['tenant-admin']);
    expect((await get(user.token)).statusCode).toBe(403);
    expect((await get(user.token)).json().error.code).toBe('FORBIDDEN');
    expect((await get(auditor.token)).statusCode).toBe(200);
    const refused = await put(auditor.token, base());
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('FORBIDDEN');
    // The identity provider's group mapping could make anyone anything: only a holder of every permission configures it.
    const notEverything = await put(securityAdmin.token, base());
    expect(notEverything.statusCode).toBe(403);
    expect(notEverything.json().error.code).toBe('PERMISSION_NOT_HELD');
    expect(notEverything.json().error.message).toContain('vault.credentials.write');
    const { view } = await configureSso(t, tenantAdmin.token, idp);
    expect(view.enabled).toBe(true);
    expect((await ssoEvents()).at(-1)!.actor_id).toBe(tenantAdmin.id);
  });
});
