import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { allRowsText } from '../../../test/support/plaintext.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { createLogger } from '../../platform/log.js';

describe.each(dialects)('credential secrets never appear in plaintext on %s', (dialect) => {
  let t: TestApp;
  const logLines: string[] = [];
  beforeAll(async () => {
    // Every log line of the whole flow, at the most verbose level, is kept to be searched.
    t = await createTestApp(dialect, { log: createLogger({ level: 'trace', destination: { write: (line: string) => void logLines.push(line) } }) });
  });
  afterAll(async () => t.close());

  const allRows = () => allRowsText(t);

  it('after create, change, history, an old-version reveal and TOTP, no secret, passphrase or seed is in any response but the reveal, any audit detail, log line, row or database file', async () => {
    const admin = await t.tenantWithAdmin('plain-a');
    const call = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) => apiCall(t, method, url, admin.token, payload);
    const password1 = `Pw_${randomBytes(12).toString('hex')}_Aa1-:=`;
    const password2 = `Pw_${randomBytes(12).toString('hex')}_Bb2-:=`;
    const password3 = `Pw_${randomBytes(12).toString('hex')}_Cc3-:=`;
    const seed = new Secret({ size: 20 }).base32;
    const passphrase = `pp-${randomBytes(12).toString('hex')}`;
    const { privateKey } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const keyLine = privateKey.split('\n')[1]!;
    const secrets = [password1, password2, password3, seed, passphrase, keyLine];

    const responses: { label: string; body: string }[] = [];
    const record = async (label: string, res: Promise<{ statusCode: number; body: string }>, status = 200) => {
      const done = await res;
      expect(done.statusCode, `${label}: ${done.body}`).toBe(status);
      responses.push({ label, body: done.body });
      return JSON.parse(done.body || 'null');
    };
    const deviceId = (await record('device', call('POST', '/devices', { name: 'db01', address: '10.0.0.1', port: 5432, protocol: 'postgres' }), 201)).device.id;
    const pwId = (await record('create', call('POST', '/credentials', { deviceId, username: 'postgres', type: 'password', secret: password1, totpSeed: seed }), 201)).credential.id;
    await record('patch secret', call('PATCH', `/credentials/${pwId}`, { secret: password2, notes: 'rotated by hand' }));
    await record('set secret', call('POST', `/credentials/${pwId}/secret`, { secret: password3 }));
    await record('get', call('GET', `/credentials/${pwId}`));
    await record('list', call('GET', '/credentials'));
    await record('history', call('GET', `/credentials/${pwId}/history`));
    const revealed = await record('reveal', call('POST', `/credentials/${pwId}/history/1/reveal`, { justification: 'INC-1: compare with the backup' }));
    expect(revealed.secret).toBe(password1);
    const totp = await record('totp', call('GET', `/credentials/${pwId}/totp`));
    expect(totp.code).toMatch(/^\d{6}$/);
    const keyId = (await record('create key', call('POST', '/credentials', { deviceId, username: 'deploy', type: 'ssh-key', secret: privateKey, passphrase }), 201)).credential.id;
    await record('rotate key', call('POST', `/credentials/${keyId}/secret`, { secret: generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey }));
    const keyReveal = await record('reveal key', call('POST', `/credentials/${keyId}/history/1/reveal`, { justification: 'INC-2: old host key login' }));
    expect([keyReveal.secret, keyReveal.passphrase]).toEqual([privateKey, passphrase]);
    // A refused secret (bad format) must not echo it either.
    const refused = await record('refused', call('POST', `/credentials/${pwId}/secret`, { secret: `${password1}\n` }), 400);
    expect(refused.error.code).toBe('SECRET_INVALID');

    // Responses: only a reveal carries a secret, and only the one it was asked for.
    for (const { label, body } of responses) {
      const allowed = label === 'reveal' ? [password1] : label === 'reveal key' ? [passphrase, keyLine] : [];
      for (const secret of secrets.filter((s) => !allowed.includes(s))) expect(body.includes(secret), `${label} carries a secret`).toBe(false);
    }
    const details = (await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).orderBy('seq').execute()).map((e) => e.details).join('\n');
    expect(details).toContain('INC-1: compare with the backup');
    const logs = logLines.join('');
    expect(logs).toContain(`/api/v1/credentials/${pwId}/history/1/reveal`);
    const rows = await allRows();
    expect(rows).toContain(pwId);
    const files = t.target.sqliteFile ? [t.target.sqliteFile, `${t.target.sqliteFile}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')) : [];
    if (t.target.sqliteFile) expect(files.join('')).toContain(pwId);
    for (const secret of secrets) {
      expect(details.includes(secret), 'audit details').toBe(false);
      expect(logs.includes(secret), 'log lines').toBe(false);
      expect(rows.includes(secret), 'database rows').toBe(false);
      for (const bytes of files) expect(bytes.includes(secret), 'database file').toBe(false);
    }
  });

  it('after an import, reveals of current secrets, a checkout, an approved access request and an export, no secret is anywhere but the answers that reveal it', async () => {
    const admin = await t.tenantWithAdmin('plain-b');
    const alice = await activeUser(t, admin, 'alice');
    const bob = await activeUser(t, admin, 'bob');
    const as = (token: string) => (method: 'GET' | 'POST', url: string, payload?: object) => apiCall(t, method, url, token, payload);
    const [adminCall, aliceCall, bobCall] = [as(admin.token), as(alice.token), as(bob.token)];
    const open = `Op_${randomBytes(12).toString('hex')}_Aa1-:=`;
    const guarded = `Gd_${randomBytes(12).toString('hex')}_Bb2-:=`;
    const held = `Hd_${randomBytes(12).toString('hex')}_Cc3-:=`;
    const secrets = [open, guarded, held];
    const responses: { label: string; body: string }[] = [];
    const record = async (label: string, res: Promise<{ statusCode: number; body: string }>, status = 200) => {
      const done = await res;
      expect(done.statusCode, `${label}: ${done.body}`).toBe(status);
      responses.push({ label, body: done.body });
      return label.endsWith('csv') ? done.body : JSON.parse(done.body || 'null');
    };
    const file = {
      devices: [{ name: 'db02', address: '10.0.0.2', port: 5432, protocol: 'postgres' }],
      credentials: [
        { device: 'db02', username: 'open', type: 'password', secret: open, tags: ['open'] },
        { device: 'db02', username: 'guarded', type: 'password', secret: guarded, tags: ['guarded'] },
        { device: 'db02', username: 'held', type: 'password', secret: held, tags: ['open'] },
      ],
    };
    await record('dry run', adminCall('POST', '/import', { format: 'json', data: JSON.stringify(file), dryRun: true }));
    await record('import', adminCall('POST', '/import', { format: 'json', data: JSON.stringify(file) }));
    const listed = await record('list', adminCall('GET', '/credentials'));
    const id = (username: string) => listed.credentials.find((c: { username: string }) => c.username === username).id as string;
    await record('policy', adminCall('POST', '/access-policies', { name: 'open', members: { users: [alice.id] }, filters: { credentialTags: ['open'] }, actions: { reveal: { mode: 'justification' } } }), 201);
    await record('policy', adminCall('POST', '/access-policies', { name: 'guarded', members: { users: [alice.id] }, filters: { credentialTags: ['guarded'] }, actions: { reveal: { mode: 'approval', levels: [{ approvers: { users: [bob.id] }, required: 1 }] } } }), 201);
    await record('evaluate', adminCall('GET', `/access-policies/evaluate?userId=${alice.id}&credentialId=${id('guarded')}&action=reveal`));
    expect((await record('reveal open', aliceCall('POST', `/credentials/${id('open')}/reveal`, { justification: 'INC-3 replica lag' }))).secret).toBe(open);
    const request = (await record('request', aliceCall('POST', '/access-requests', { credentialId: id('guarded'), justification: 'CHG-3 schema change' }), 201)).request;
    await record('inbox', bobCall('GET', '/access-requests?role=approver'));
    await record('approve', bobCall('POST', `/access-requests/${request.id}/approve`, { comment: 'go' }));
    expect((await record('reveal guarded', aliceCall('POST', `/credentials/${id('guarded')}/reveal`, { requestId: request.id }))).secret).toBe(guarded);
    expect((await record('checkout held', aliceCall('POST', `/credentials/${id('held')}/checkout`, { justification: 'INC-4 failover', minutes: 5 }), 201)).secret.secret).toBe(held);
    await record('custody', aliceCall('GET', '/checkouts'));
    await record('checkin', aliceCall('POST', `/credentials/${id('held')}/checkin`));
    await record('requests', adminCall('GET', '/access-requests?role=all'));
    for (const what of ['devices', 'credentials']) for (const format of ['json', 'csv']) await record(`export ${what} ${format}`, adminCall('GET', `/export?what=${what}&format=${format}`));

    const allowedIn: Record<string, string[]> = { 'reveal open': [open], 'reveal guarded': [guarded], 'checkout held': [held] };
    for (const { label, body } of responses) {
      for (const secret of secrets.filter((s) => !(allowedIn[label] ?? []).includes(s))) expect(body.includes(secret), `${label} carries a secret`).toBe(false);
    }
    const details = (await t.runtime.database.db.selectFrom('audit_events').select('details').where('tenant_id', '=', admin.id).orderBy('seq').execute()).map((e) => e.details).join('\n');
    expect(details).toContain('CHG-3 schema change');
    const logs = logLines.join('');
    expect(logs).toContain(`/api/v1/credentials/${id('guarded')}/reveal`);
    const rows = await allRows();
    expect(rows).toContain(request.id);
    const files = t.target.sqliteFile ? [t.target.sqliteFile, `${t.target.sqliteFile}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')) : [];
    for (const secret of secrets) {
      expect(details.includes(secret), 'audit details').toBe(false);
      expect(logs.includes(secret), 'log lines').toBe(false);
      expect(rows.includes(secret), 'database rows').toBe(false);
      for (const bytes of files) expect(bytes.includes(secret), 'database file').toBe(false);
    }
  });
});
