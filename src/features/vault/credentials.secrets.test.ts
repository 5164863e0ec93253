import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import type { Actor } from '../../../src/platform/actor.js';
import { invalid } from '../../platform/errors.js';
import { createCredentialService, type CheckSecret } from './credentials.service.js';

const OATHTOOL = '/usr/bin/oathtool';
const hasOathtool = existsSync(OATHTOOL);
if (!hasOathtool) {
  const line = 'oathtool is not installed: the credential TOTP interoperability test is SKIPPED. Run scripts/setup-system.sh.';
  if (process.env.CUSTOS_REQUIRE_PEERS === '1') throw new Error(line);
  console.warn(`\n!!! ${line}\n`);
}
const oathtool = (seed: string, at: number) => execFileSync(OATHTOOL, ['--totp', '-b', seed, '--now', `@${Math.floor(at / 1000)}`], { encoding: 'utf8' }).trim();

const SEED = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
/** A password the default credential policy accepts, unique per label. */
const pw = (label: string) => `Pw_${label}_Aa1-2026-xyz:=`;

describe.each(dialects)('credential secrets, history, reveal and TOTP on %s', (dialect) => {
  let t: TestApp;
  let admin: Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
  let deviceId: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('credsec-a');
    deviceId = (await call('POST', '/devices', admin.token, { name: 'db01', address: '10.0.0.1', port: 5432, protocol: 'postgres', site: 'lisbon', type: 'database', tags: ['prod'] })).json().device.id;
  });
  afterAll(async () => t.close());

  const call = (method: 'GET' | 'POST' | 'PATCH', url: string, token = admin.token, payload?: object) => apiCall(t, method, url, token, payload);
  async function create(body: object) {
    const res = await call('POST', '/credentials', admin.token, { deviceId, type: 'password', ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().credential as { id: string; version: number };
  }
  const reveal = (id: string, version: number, justification?: string, token = admin.token) => call('POST', `/credentials/${id}/history/${version}/reveal`, token, justification === undefined ? {} : { justification });
  const db = () => t.runtime.database.db;
  const eventsOf = (id: string) => db().selectFrom('audit_events').select(['action', 'details', 'outcome', 'seq']).where('target_id', '=', id).orderBy('seq').execute();
  const versionRow = (id: string, version: number) => db().selectFrom('credential_versions').selectAll().where('credential_id', '=', id).where('version', '=', version).executeTakeFirstOrThrow();

  it('every secret change makes a new version; the history lists all of them newest first, never a secret', async () => {
    const item = await create({ username: 'history', secret: pw('v1') });
    t.clock.advance(1000);
    await call('PATCH', `/credentials/${item.id}`, admin.token, { secret: pw('v2') });
    t.clock.advance(1000);
    await call('POST', `/credentials/${item.id}/secret`, admin.token, { secret: pw('v3') });
    t.clock.advance(1000);
    const put = await call('PUT' as 'PATCH', `/credentials/${item.id}`, admin.token, { deviceId, username: 'history', type: 'password', secret: pw('v4') });
    expect(put.json().credential).toMatchObject({ version: 4, secretChangedAt: new Date(t.clock.now()).toISOString() });
    const me = (await call('GET', '/auth/me')).json().user.id;
    const res = await call('GET', `/credentials/${item.id}/history`);
    expect(res.statusCode).toBe(200);
    expect(res.json().versions.map((v: object) => v)).toEqual([4, 3, 2, 1].map((version) => ({ version, reason: version === 1 ? 'created' : 'manual', createdBy: me, createdAt: new Date(t.clock.now() - (4 - version) * 1000).toISOString(), current: version === 4 })));
    expect(res.body).not.toMatch(/Pw_v\d/);
    const page = (await call('GET', `/credentials/${item.id}/history?limit=3`)).json();
    expect([page.versions.map((v: { version: number }) => v.version), page.nextCursor]).toEqual([[4, 3, 2], 2]);
    expect((await call('GET', `/credentials/${item.id}/history?limit=3&before=2`)).json()).toMatchObject({ versions: [{ version: 1 }], nextCursor: null });
    // The current secret is on the credential and in its history, under the same sealed value.
    const row = await db().selectFrom('credentials').select('secret_sealed').where('id', '=', item.id).executeTakeFirstOrThrow();
    expect((await versionRow(item.id, 4)).secret_sealed).toBe(row.secret_sealed);
  });

  it('reveals an old version with a justification, audited with version and justification in the same transaction', async () => {
    const { privateKey: key1 } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'first passphrase' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const { privateKey: key2 } = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const item = await create({ username: 'keyed', type: 'ssh-key', secret: key1, passphrase: 'first passphrase' });
    await call('POST', `/credentials/${item.id}/secret`, admin.token, { secret: key2 });
    const res = await reveal(item.id, 1, '  INC-4711: restore from the old backup  ');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ credentialId: item.id, version: 1, secret: key1, passphrase: 'first passphrase', reason: 'created', createdAt: expect.any(String) });
    const last = (await eventsOf(item.id)).at(-1)!;
    expect([last.action, JSON.parse(last.details)]).toEqual(['credential.history.revealed', { version: 1, justification: 'INC-4711: restore from the old backup' }]);
    expect(last.details).not.toContain('BEGIN');
  });

  it('an old-version reveal needs its permission and a justification; the current version and unknown versions are refused; refusals write nothing', async () => {
    const item = await create({ username: 'guarded', secret: pw('g1') });
    await call('POST', `/credentials/${item.id}/secret`, admin.token, { secret: pw('g2') });
    expect((await call('POST', '/roles', admin.token, { name: 'cred-reader', permissions: ['vault.credentials.read', 'vault.credentials.write'] })).statusCode).toBe(201);
    expect((await call('POST', '/roles', admin.token, { name: 'history-revealer', permissions: ['vault.credential-history.reveal'] })).statusCode).toBe(201);
    const reader = await activeUser(t, admin, 'credsec-reader', ['cred-reader']);
    const revealer = await activeUser(t, admin, 'credsec-revealer', ['history-revealer']);
    const before = (await eventsOf(item.id)).length;
    const forbidden = await reveal(item.id, 1, 'ticket 42', reader.token);
    expect([forbidden.statusCode, forbidden.json().error.code]).toEqual([403, 'FORBIDDEN']);
    expect(forbidden.json().error.message).toContain('vault.credential-history.reveal');
    for (const justification of [undefined, '', '    ', 'abc']) {
      const res = await reveal(item.id, 1, justification, revealer.token);
      expect([res.statusCode, res.json().error.code], String(justification)).toEqual([400, 'JUSTIFICATION_REQUIRED']);
      expect(res.body).not.toContain(pw('g1'));
    }
    const noBody = await t.app.inject({ method: 'POST', url: `/api/v1/credentials/${item.id}/history/1/reveal`, headers: { authorization: `Bearer ${revealer.token}` } });
    expect([noBody.statusCode, noBody.json().error.code]).toEqual([400, 'JUSTIFICATION_REQUIRED']);
    const current = await reveal(item.id, 2, 'ticket 42', revealer.token);
    expect([current.statusCode, current.json().error.code]).toEqual([409, 'VERSION_IS_CURRENT']);
    for (const version of [3, 99]) expect((await reveal(item.id, version, 'ticket 42', revealer.token)).json().error.code).toBe('VERSION_NOT_FOUND');
    for (const version of ['0', 'abc', '-1']) expect((await call('POST', `/credentials/${item.id}/history/${version}/reveal`, revealer.token, { justification: 'ticket 42' })).statusCode).toBe(400);
    expect((await eventsOf(item.id)).length).toBe(before);
    const ok = await reveal(item.id, 1, 'ticket 42', revealer.token);
    expect(ok.json()).toMatchObject({ secret: pw('g1'), passphrase: null, version: 1 });
    expect((await eventsOf(item.id)).length).toBe(before + 1);
  });

  it.skipIf(!hasOathtool)('the TOTP code matches oathtool for the stored seed at the same moment, with the seconds left; audited, never the seed', async () => {
    const item = await create({ username: 'totp', totpSeed: SEED.toLowerCase().replace(/(.{4})/g, '$1 ') });
    for (const step of [0, 17_000, 30_000]) {
      t.clock.advance(step);
      const res = await call('GET', `/credentials/${item.id}/totp`);
      expect(res.statusCode, res.body).toBe(200);
      const now = t.clock.now();
      expect(res.json()).toEqual({ code: oathtool(SEED, now), secondsRemaining: 30 - (Math.floor(now / 1000) % 30), period: 30, digits: 6 });
      expect(res.body).not.toContain(SEED);
    }
    const events = (await eventsOf(item.id)).filter((e) => e.action === 'credential.totp.viewed');
    expect(events).toHaveLength(3);
    expect(events.map((e) => JSON.parse(e.details))).toEqual([{}, {}, {}]);
    const none = await create({ username: 'no-totp' });
    expect((await call('GET', `/credentials/${none.id}/totp`)).json().error.code).toBe('TOTP_NOT_SET');
  });

  it('a sealed value moved to another credential, version or field fails cleanly: 409 SECRET_INTEGRITY_FAILED, audited, flagged for rotation, never a 500', async () => {
    const a = await create({ username: 'seal-a', secret: pw('a1'), totpSeed: SEED });
    const b = await create({ username: 'seal-b', secret: pw('b1'), totpSeed: SEED });
    await call('POST', `/credentials/${b.id}/secret`, admin.token, { secret: pw('b2') });
    const original = (await versionRow(b.id, 1)).secret_sealed;
    const setV1 = (sealed: string | null) => db().updateTable('credential_versions').set({ secret_sealed: sealed }).where('credential_id', '=', b.id).where('version', '=', 1).execute();
    const checks: [string, () => Promise<unknown>][] = [
      ["another credential's version 1", async () => setV1((await versionRow(a.id, 1)).secret_sealed)],
      ['the same credential\'s version 2', async () => setV1((await versionRow(b.id, 2)).secret_sealed)],
      ['an altered ciphertext', async () => setV1(`${original!.slice(0, -4)}AAAA`)],
    ];
    for (const [what, tamper] of checks) {
      await tamper();
      const res = await reveal(b.id, 1, 'ticket 42');
      expect(res.statusCode, what).toBe(409);
      expect(res.json().error).toMatchObject({ code: 'SECRET_INTEGRITY_FAILED', message: expect.stringContaining(`/api/v1/credentials/${b.id}/secret`) });
      expect(res.body).not.toContain('Pw_');
      const last = (await eventsOf(b.id)).at(-1)!;
      expect([last.action, last.outcome, JSON.parse(last.details)], what).toEqual(['credential.integrity_failed', 'failure', { field: 'secret', version: 1 }]);
    }
    await setV1(original);
    expect((await reveal(b.id, 1, 'ticket 42')).json().secret).toBe(pw('b1'));
    const aTotp = (await db().selectFrom('credentials').select('totp_sealed').where('id', '=', a.id).executeTakeFirstOrThrow()).totp_sealed;
    await db().updateTable('credentials').set({ totp_sealed: aTotp }).where('id', '=', b.id).execute();
    const totp = await call('GET', `/credentials/${b.id}/totp`);
    expect([totp.statusCode, totp.json().error.code]).toEqual([409, 'SECRET_INTEGRITY_FAILED']);
    expect((await call('GET', `/credentials/${b.id}`)).json().credential.needsRotation).toBe(true);
    // A new secret (and seed) repairs the credential: the broken values are never needed to replace them.
    const repaired = (await call('PATCH', `/credentials/${b.id}`, admin.token, { secret: pw('b3'), totpSeed: SEED })).json().credential;
    expect(repaired).toMatchObject({ version: 3, needsRotation: false });
    expect((await call('GET', `/credentials/${b.id}/totp`)).statusCode).toBe(200);
    expect(await t.runtime.audit.verify(db(), admin.id)).toMatchObject({ ok: true });
  });

  it('concurrent secret changes each get their own version; the history has no gap', async () => {
    const item = await create({ username: 'racy', secret: pw('r0') });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => call('POST', `/credentials/${item.id}/secret`, admin.token, { secret: pw(`r${i + 1}`) })));
    expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(200));
    expect(results.map((r) => r.json().credential.version).sort()).toEqual([2, 3, 4, 5, 6, 7]);
    const history = (await call('GET', `/credentials/${item.id}/history`)).json().versions.map((v: { version: number }) => v.version);
    expect(history).toEqual([7, 6, 5, 4, 3, 2, 1]);
  });

  it('the checkSecret hook sees the credential and device attributes before a created or manual secret is sealed; its refusal writes nothing; generated secrets skip it', async () => {
    const seen: { target: unknown; secret: string }[] = [];
    const checkSecret = vi.fn<CheckSecret>(async (_trx, _tenantId, target, secret) => {
      seen.push({ target, secret });
      if (secret.includes('weak')) throw invalid('SECRET_TOO_WEAK', 'too weak');
    });
    const service = createCredentialService({ db: db(), audit: t.runtime.audit, clock: t.clock, keyring: t.runtime.keyring, owners: t.runtime.services.users, checkSecret });
    const me = (await call('GET', '/auth/me')).json().user.id;
    const actor: Actor = { kind: 'user', tenantId: admin.id, id: me, ip: null };
    const created = await service.create(actor, { deviceId, username: 'hooked', type: 'api-key', secret: 'strong-api-key-1', tags: ['svc'] });
    expect(seen).toEqual([{ secret: 'strong-api-key-1', target: { credential: { id: created.id, type: 'api-key', username: 'hooked', tags: ['svc'] }, device: { id: deviceId, name: 'db01', site: 'lisbon', type: 'database', tags: ['prod'] } } }]);
    const before = await eventsOf(created.id);
    await expect(service.changeSecret(actor, created.id, { secret: 'weak-api-key-2' })).rejects.toMatchObject({ code: 'SECRET_TOO_WEAK' });
    await expect(service.create(actor, { deviceId, username: 'hooked-2', type: 'api-key', secret: 'weak-api-key-3' })).rejects.toMatchObject({ code: 'SECRET_TOO_WEAK' });
    expect(await eventsOf(created.id)).toEqual(before);
    expect(await db().selectFrom('credentials').select('id').where('username', '=', 'hooked-2').execute()).toEqual([]);
    expect((await service.get(actor, created.id)).version).toBe(1);
    await service.changeSecret(actor, created.id, { secret: 'weak-but-generated' }, 'generated');
    expect(seen).toHaveLength(3);
    expect((await call('GET', `/credentials/${created.id}/history`)).json().versions.map((v: { reason: string }) => v.reason)).toEqual(['generated', 'created']);
  });
});
