import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';

const pw = (label: string) => `Pw_${label}_Aa1-2026-xyz:=`;

describe.each(dialects)('API clients revealing credentials on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let other: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let device: { id: string; name: string };
  const ids: Record<string, string> = {};

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, token: string, payload?: object) => apiCall(t, method, url, token, payload);
  const db = () => t.runtime.database.db;
  const reveal = (ref: string, token: string, body: object = {}) => call('POST', `/credentials/${ref}/reveal`, token, body);
  const revealedEvents = (credentialId: string) => db().selectFrom('audit_events').selectAll().where('tenant_id', '=', admin.id).where('action', '=', 'credential.revealed').where('target_id', '=', credentialId).orderBy('seq').execute();
  /** Creates a client as the tenant's admin, sets its grants and answers it with a fresh token. */
  async function grantedClient(name: string, scopes: string[], grants: { credentialIds?: string[]; tags?: string[] }, by = admin) {
    const created = await call('POST', '/clients', by.token, { name, scopes });
    expect(created.statusCode, created.body).toBe(201);
    const { client, clientSecret } = created.json();
    const put = await call('PUT', `/clients/${client.id}/credential-grants`, by.token, grants);
    expect(put.statusCode, put.body).toBe(200);
    const token = await t.app.inject({ method: 'POST', url: '/api/v1/oauth2/token', payload: { grant_type: 'client_credentials', client_id: client.clientId, client_secret: clientSecret } });
    expect(token.statusCode, token.body).toBe(200);
    return { id: client.id as string, token: token.json().access_token as string };
  }
  const expectRefused = (res: { statusCode: number; body: string; json: () => { error: { code: string } } }, status: number, code: string) => {
    expect(res.statusCode, res.body).toBe(status);
    expect(res.json().error.code).toBe(code);
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('client-reveal-a');
    other = await t.tenantWithAdmin('client-reveal-b');
    device = (await call('POST', '/devices', admin.token, { name: 'db-1', address: 'db-1.acme.internal', port: 5432, protocol: 'postgres' })).json().device;
    for (const [username, tags] of [['root', []], ['app', ['payments', 'prod']], ['svc@corp', []], ['hidden', ['prod-like']]] as const) {
      const res = await call('POST', '/credentials', admin.token, { deviceId: device.id, username, type: 'password', secret: pw(username), tags });
      expect(res.statusCode, res.body).toBe(201);
      ids[username] = res.json().credential.id;
    }
    const theirs = (await call('POST', '/devices', other.token, { name: 'db-1', address: '10.9.9.9', port: 5432, protocol: 'postgres' })).json().device;
    expect((await call('POST', '/credentials', other.token, { deviceId: theirs.id, username: 'theirs', type: 'password', secret: pw('foreign') })).statusCode).toBe(201);
  });
  afterAll(async () => t.close());

  it('a client with vault.credentials.use and an id grant reveals the secret; the event names the client and the grant, never the secret', async () => {
    const c = await grantedClient('By id', ['vault.credentials.use'], { credentialIds: [ids.root!] });
    const res = await reveal(ids.root!, c.token, { justification: 'nightly backup' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toMatchObject({ credentialId: ids.root, username: 'root', secret: pw('root'), device: { id: device.id, name: 'db-1' } });
    const [event] = await revealedEvents(ids.root!);
    expect(event).toMatchObject({ actor_kind: 'client', actor_id: c.id });
    expect(JSON.parse(event!.details)).toEqual({ version: 1, mode: 'client-grant', grant: 'id', justification: 'nightly backup', emergency: false });
    expect(JSON.stringify(event)).not.toContain(pw('root'));
  });

  it('a client reveals by username@device, with the @ sent as it is or URL-encoded, and the last @ splits the account', async () => {
    const c = await grantedClient('By account', ['vault.credentials.use'], { credentialIds: [ids.root!, ids['svc@corp']!] });
    for (const ref of ['root@db-1', 'root%40db-1']) {
      const res = await reveal(ref, c.token);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ credentialId: ids.root, secret: pw('root') });
    }
    const res = await reveal(encodeURIComponent('svc@corp@db-1'), c.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().secret).toBe(pw('svc@corp'));
  });

  it("a tag grant covers every credential carrying the tag, and the event names the tag", async () => {
    const c = await grantedClient('By tag', ['vault.credentials.use'], { tags: ['payments'] });
    const res = await reveal('app@db-1', c.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().secret).toBe(pw('app'));
    const events = await revealedEvents(ids.app!);
    expect(JSON.parse(events.at(-1)!.details)).toMatchObject({ mode: 'client-grant', grant: 'tag:payments' });
    expectRefused(await reveal(ids.root!, c.token), 404, 'CREDENTIAL_NOT_FOUND');
  });

  it('a credential no grant covers answers 404 like an unknown one; a client with vault.credentials.read is told 403 ACCESS_NOT_GRANTED', async () => {
    const c = await grantedClient('Not covering', ['vault.credentials.use'], { tags: ['prod'] });
    const hidden = await reveal(ids.hidden!, c.token);
    expectRefused(hidden, 404, 'CREDENTIAL_NOT_FOUND');
    const unknown = await reveal('0190f7b2-0000-7000-8000-000000000000', c.token);
    expect(unknown.json().error.message).toBe(hidden.json().error.message.replace(ids.hidden!, '0190f7b2-0000-7000-8000-000000000000'));
    const byAccount = await reveal('hidden@db-1', c.token);
    expectRefused(byAccount, 404, 'CREDENTIAL_NOT_FOUND');
    expect(byAccount.json().error.message).not.toContain(ids.hidden!);
    expectRefused(await reveal('nobody@db-1', c.token), 404, 'CREDENTIAL_NOT_FOUND');
    expectRefused(await reveal('theirs@db-1', c.token), 404, 'CREDENTIAL_NOT_FOUND');
    const reader = await grantedClient('Reader', ['vault.credentials.use', 'vault.credentials.read'], { tags: ['prod'] });
    expectRefused(await reveal(ids.hidden!, reader.token), 403, 'ACCESS_NOT_GRANTED');
    expectRefused(await reveal('0190f7b2-0000-7000-8000-000000000000', reader.token), 404, 'CREDENTIAL_NOT_FOUND');
    expect(await revealedEvents(ids.hidden!)).toEqual([]);
  });

  it('a client without vault.credentials.use answers 403 FORBIDDEN even where a grant covers the credential', async () => {
    const c = await grantedClient('No scope', ['vault.credentials.read'], { credentialIds: [ids.root!] });
    expectRefused(await reveal(ids.root!, c.token), 403, 'FORBIDDEN');
  });

  it('revoking the grants (PUT empty) makes the next reveal 404', async () => {
    const c = await grantedClient('Revoked', ['vault.credentials.use'], { credentialIds: [ids.root!] });
    expect((await reveal(ids.root!, c.token)).statusCode).toBe(200);
    expect((await call('PUT', `/clients/${c.id}/credential-grants`, admin.token, { credentialIds: [], tags: [] })).statusCode).toBe(200);
    expectRefused(await reveal(ids.root!, c.token), 404, 'CREDENTIAL_NOT_FOUND');
  });

  it('deactivating the client stops it: its token is refused on the next reveal', async () => {
    const c = await grantedClient('Deactivated', ['vault.credentials.use'], { credentialIds: [ids.root!] });
    expect((await reveal(ids.root!, c.token)).statusCode).toBe(200);
    expect((await call('PATCH', `/clients/${c.id}`, admin.token, { status: 'inactive' })).statusCode).toBe(200);
    expectRefused(await reveal(ids.root!, c.token), 401, 'TOKEN_REVOKED');
  });

  it('a client cannot check out a credential, even one it may reveal', async () => {
    const c = await grantedClient('No custody', ['vault.credentials.use'], { credentialIds: [ids.root!] });
    expectRefused(await call('POST', `/credentials/${ids.root}/checkout`, c.token, {}), 403, 'ACCESS_NOT_GRANTED');
  });

  it('a user reveals by username@device under the access policies; an account they may not see answers 404 without its id', async () => {
    const alice = await activeUser(t, admin, 'alice');
    const policy = await call('POST', '/access-policies', admin.token, { name: 'Root for alice', members: { users: [alice.id] }, filters: { credentialUsernames: ['root'] }, actions: { reveal: { mode: 'allow' } } });
    expect(policy.statusCode, policy.body).toBe(201);
    const res = await reveal('root@db-1', alice.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().secret).toBe(pw('root'));
    const hidden = await reveal('hidden@db-1', alice.token);
    expectRefused(hidden, 404, 'CREDENTIAL_NOT_FOUND');
    expect(hidden.json().error.message).toContain('hidden@db-1');
    expect(hidden.json().error.message).not.toContain(ids.hidden!);
  });

  it('an oversize or malformed reference answers 4xx with a code, never 5xx', async () => {
    const c = await grantedClient('Junk refs', ['vault.credentials.use'], { credentialIds: [ids.root!] });
    // The router caps a path parameter at 100 characters, before the schema reads it.
    expect((await reveal(`${'r'.repeat(300)}@db-1`, c.token)).statusCode).toBe(414);
    for (const ref of [encodeURIComponent('root\u0001@db-1'), '@db-1', 'root@', 'not-an-id']) {
      const res = await reveal(ref, c.token);
      expect(res.statusCode, `${ref}: ${res.body}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().error.code).toEqual(expect.any(String));
    }
  });
});
