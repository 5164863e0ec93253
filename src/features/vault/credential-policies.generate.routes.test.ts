import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { apiCall } from '../../../test/support/users.js';
import { createLogger } from '../../platform/log.js';
import { checkPassword } from './password-generator.js';
import { DEFAULT_POLICY_RULES } from './credential-policies.schemas.js';

type Admin = Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
type Ref = { id: string; name: string };

describe.each(dialects)('matching, generating and enforcing credential policies on %s', (dialect) => {
  let t: TestApp;
  let admin: Admin;
  let other: Admin;
  let web: string;
  let db01: string;
  let rootOnWeb: string;
  let rootPolicy: Ref;
  let webPolicy: Ref;
  let parisPolicy: Ref;
  let vipPolicy: Ref;
  // Every log line at every level, to show a generated password never reaches the log.
  const logLines: string[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect, { log: createLogger({ level: 'trace', destination: { write: (line: string) => logLines.push(line) } }) });
    admin = await t.tenantWithAdmin('cpgen-a');
    other = await t.tenantWithAdmin('cpgen-b');
    web = (await post('/devices', { name: 'web-01', address: '10.0.0.1', port: 22, protocol: 'ssh', site: 'paris', type: 'linux', tags: ['prod', 'pci'] })).device.id;
    db01 = (await post('/devices', { name: 'db-01', address: '10.0.0.2', port: 5432, protocol: 'postgres', site: 'lyon', type: 'linux', tags: ['prod'] })).device.id;
    rootOnWeb = (await post('/credentials', { deviceId: web, username: 'root', type: 'password', tags: ['break-glass'] })).credential.id;
    // Same priority 20: "Root anywhere" is older, so it wins where both match.
    parisPolicy = (await post('/credential-policies', { name: 'Paris prod', priority: 10, filters: { sites: ['Paris'], deviceTags: ['prod'] }, rules: { minLength: 32, requireClasses: ['lower', 'upper', 'digit'], allowedSymbols: '' } })).policy;
    t.clock.advance(1);
    rootPolicy = (await post('/credential-policies', { name: 'Root anywhere', priority: 20, filters: { usernames: ['root', 'adm*'], credentialTypes: ['password'] }, rules: { minLength: 24, requireClasses: ['symbol'], allowedSymbols: '#' } })).policy;
    t.clock.advance(1);
    webPolicy = (await post('/credential-policies', { name: 'Web servers', priority: 20, filters: { deviceName: 'WEB-??' }, rules: { minLength: 16, requireClasses: ['digit'] } })).policy;
    vipPolicy = (await post('/credential-policies', { name: 'VIP accounts', priority: 30, filters: { credentialTags: ['vip'] }, rules: { minLength: 40, requireClasses: [] } })).policy;
  });
  afterAll(async () => t.close());

  async function post(url: string, body: object, by = admin) {
    const res = await apiCall(t, 'POST', url, by.token, body);
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json();
  }
  const match = (query: string, by = admin) => apiCall(t, 'GET', `/credential-policies/match?${query}`, by.token);
  const generate = (body: object, by = admin) => apiCall(t, 'POST', '/credential-policies/generate', by.token, body);
  const ref = (p: Ref) => ({ id: p.id, name: p.name });
  const database = () => t.runtime.database.db;
  const events = (action: string, tenantId = admin.id) => database().selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('action', '=', action).orderBy('seq').execute();

  it('the preview answers the winning policy, its rules and every matching policy in evaluation order', async () => {
    const root = (await match('deviceName=web-01&site=paris&deviceType=linux&deviceTags=prod,pci&credentialType=password&username=root')).json();
    expect(root.policy).toEqual(ref(rootPolicy));
    expect(root.rules).toMatchObject({ minLength: 24, requireClasses: ['symbol'], allowedSymbols: '#' });
    expect(root.matching).toEqual([{ ...ref(rootPolicy), priority: 20 }, { ...ref(webPolicy), priority: 20 }, { ...ref(parisPolicy), priority: 10 }]);
    expect((await match('deviceName=web-01&site=paris&deviceTags=prod&credentialType=password&username=oracle')).json().policy).toEqual(ref(webPolicy));
    expect((await match('deviceName=web-01&site=paris&deviceTags=prod&credentialType=password&credentialTags=vip')).json().policy).toEqual(ref(vipPolicy));
    // Paris prod needs both of its filters: the site alone is not enough.
    expect((await match('deviceName=db-01&site=paris&credentialType=password&username=oracle')).json()).toEqual({ policy: null, rules: DEFAULT_POLICY_RULES, matching: [] });
    expect((await match('credentialType=password')).json().policy).toBeNull();
  });

  it('the preview of an existing credential reads its device and tags; another tenant cannot preview it', async () => {
    expect((await match(`credentialId=${rootOnWeb}`)).json()).toEqual((await match('deviceName=web-01&site=paris&deviceType=linux&deviceTags=prod,pci&credentialType=password&username=root&credentialTags=break-glass')).json());
    for (const id of [rootOnWeb, 'junk']) {
      const res = await match(`credentialId=${id}`, other);
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('CREDENTIAL_NOT_FOUND');
    }
  });

  it("generates a password for a credential that follows its policy exactly; the audit event names the policy, never the password", async () => {
    const res = await generate({ credentialId: rootOnWeb });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    const { password, policy } = res.json();
    expect(policy).toEqual(ref(rootPolicy));
    expect(password).toMatch(/^[A-Za-z0-9#]{24}$/);
    expect(password).toContain('#');
    const again = (await generate({ credentialId: rootOnWeb })).json().password;
    expect(again).not.toBe(password);
    const generated = await events('credential_policy.password_generated');
    expect(generated.slice(-2).map((e) => [e.target_type, e.target_id, JSON.parse(e.details)])).toEqual([
      ['credential', rootOnWeb, { policyId: rootPolicy.id, policyName: 'Root anywhere', length: 24, username: 'root' }],
      ['credential', rootOnWeb, { policyId: rootPolicy.id, policyName: 'Root anywhere', length: 24, username: 'root' }],
    ]);
    const everything = JSON.stringify(await database().selectFrom('audit_events').selectAll().where('tenant_id', '=', admin.id).orderBy('seq').execute());
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(again);
    expect(logLines.some((line) => line.includes('/credential-policies/generate'))).toBe(true);
    expect(logLines.join('')).not.toContain(password);
  });

  it('generates for a credential about to be created on a device: by username, by tags, or the default when nothing matches', async () => {
    const viaWeb = (await generate({ deviceId: web, credentialType: 'password', username: 'deploy' })).json();
    expect(viaWeb.policy).toEqual(ref(webPolicy));
    expect(checkPassword({ minLength: 16, requireClasses: ['digit'], allowedSymbols: DEFAULT_POLICY_RULES.allowedSymbols }, viaWeb.password)).toEqual([]);
    expect(viaWeb.password).toHaveLength(16);
    const vip = (await generate({ deviceId: db01, credentialType: 'password', credentialTags: ['VIP'] })).json();
    expect(vip.policy).toEqual(ref(vipPolicy));
    expect(vip.password).toHaveLength(40);
    const fallback = (await generate({ deviceId: db01, credentialType: 'password', username: 'postgres' })).json();
    expect(fallback.policy).toBeNull();
    expect(fallback.password).toHaveLength(20);
    expect(checkPassword(DEFAULT_POLICY_RULES, fallback.password)).toEqual([]);
    const last = (await events('credential_policy.password_generated')).at(-1)!;
    expect([last.target_type, last.target_id, JSON.parse(last.details)]).toEqual(['device', db01, { policyId: null, policyName: null, length: 20, username: 'postgres' }]);
  });

  it('refuses to generate keys (400), and unknown or foreign devices and credentials answer 404; nothing is audited', async () => {
    const before = (await events('credential_policy.password_generated')).length;
    const key = await generate({ deviceId: web, credentialType: 'ssh-key', username: 'root' });
    expect(key.statusCode).toBe(400);
    expect(key.json().error).toMatchObject({ code: 'PASSWORD_GENERATION_UNSUPPORTED', message: expect.stringContaining('ssh-key') });
    for (const [body, code] of [
      [{ deviceId: web, credentialType: 'password' }, 'DEVICE_NOT_FOUND'],
      [{ deviceId: 'nope', credentialType: 'password' }, 'DEVICE_NOT_FOUND'],
      [{ credentialId: rootOnWeb }, 'CREDENTIAL_NOT_FOUND'],
      [{ credentialId: '00000000-0000-7000-8000-000000000000' }, 'CREDENTIAL_NOT_FOUND'],
    ] as const) {
      const res = await generate(body, other);
      expect(res.statusCode, JSON.stringify(body)).toBe(404);
      expect(res.json().error.code).toBe(code);
    }
    expect((await events('credential_policy.password_generated')).length).toBe(before);
    expect(await events('credential_policy.password_generated', other.id)).toEqual([]);
  });

  it('a typed password that breaks the applicable policy is refused with 400 CREDENTIAL_POLICY_VIOLATION and nothing is written', async () => {
    const credentialsBefore = await database().selectFrom('credentials').select('id').where('tenant_id', '=', admin.id).execute();
    const auditBefore = (await database().selectFrom('audit_events').select('seq').where('tenant_id', '=', admin.id).orderBy('seq').execute()).length;
    const weak = 'Summer2026!';
    const res = await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: web, username: 'administrator', type: 'password', secret: weak });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('CREDENTIAL_POLICY_VIOLATION');
    expect(error.message).toContain('"Root anywhere"');
    expect(error.details).toEqual({
      policy: ref(rootPolicy),
      problems: [
        { rule: 'minLength', message: 'must be at least 24 characters long' },
        { rule: 'requireClasses', message: 'must contain a symbol' },
        { rule: 'allowedCharacters', message: 'may contain only ASCII letters, digits and the symbols #' },
      ],
    });
    expect(res.body).not.toContain(weak);
    expect(await database().selectFrom('credentials').select('id').where('tenant_id', '=', admin.id).execute()).toEqual(credentialsBefore);
    expect((await database().selectFrom('audit_events').select('seq').where('tenant_id', '=', admin.id).orderBy('seq').execute()).length).toBe(auditBefore);
  });

  it('a generated password is accepted where a typed weak one is not, on create and on a new secret', async () => {
    const { password } = (await generate({ deviceId: web, credentialType: 'password', username: 'admin' })).json();
    const created = await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: web, username: 'admin', type: 'password', secret: password });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().credential.id;
    const refused = await apiCall(t, 'POST', `/credentials/${id}/secret`, admin.token, { secret: 'x'.repeat(30) });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details.problems.map((p: { rule: string }) => p.rule)).toEqual(['requireClasses']);
    expect((await apiCall(t, 'GET', `/credentials/${id}`, admin.token)).json().credential.version).toBe(1);
    const next = (await generate({ credentialId: id })).json().password;
    expect((await apiCall(t, 'POST', `/credentials/${id}/secret`, admin.token, { secret: next })).statusCode).toBe(200);
    expect((await apiCall(t, 'GET', `/credentials/${id}`, admin.token)).json().credential.version).toBe(2);
  });

  it('with no matching policy a typed password is stored as it is (the default shapes generated ones); a catch-all policy enforces a floor', async () => {
    const current = 'only-lowercase';
    expect((await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: db01, username: 'legacy', type: 'password', secret: current })).statusCode).toBe(201);
    const floor = (await post('/credential-policies', { name: 'Floor', filters: {}, rules: { minLength: 15, requireClasses: [] } })).policy;
    const res = await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: db01, username: 'app', type: 'password', secret: current });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'CREDENTIAL_POLICY_VIOLATION', message: expect.stringContaining('"Floor": it must be at least 15 characters long'), details: { policy: ref(floor) } });
    expect((await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: db01, username: 'app', type: 'password', secret: `${current}!` })).statusCode).toBe(201);
    await apiCall(t, 'DELETE', `/credential-policies/${floor.id}`, admin.token);
  });

  it('API keys are never checked against a policy, even where a password policy matches the device', async () => {
    // "Root anywhere" names credentialTypes password; "Paris prod" would match web-01 for any type, but keys are not passwords.
    const apiKey = await apiCall(t, 'POST', '/credentials', admin.token, { deviceId: web, username: 'ci-token', type: 'api-key', secret: 'abcdefghij' });
    expect(apiKey.statusCode, apiKey.body).toBe(201);
  });
});
