import { createPublicKey, verify as verifySignature } from 'node:crypto';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { childEnv, runCli } from '../../../test/support/processes.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { checkpointMessage, keyIdOf } from './checkpoint-signature.js';
import { seedChain } from './chain-seed.js';

type Admin = Awaited<ReturnType<TestApp['tenantWithAdmin']>> & { head: number };

describe.each(dialects)('audit verification and checkpoints on %s', (dialect) => {
  let t: TestApp;
  let admin: Admin;
  let other: Admin;
  const db = () => t.runtime.database.db;

  /** A tenant with a few more events, so that a middle and an end exist; answers its head seq. */
  async function tenantWithEvents(slug: string) {
    const tenant = await t.tenantWithAdmin(slug);
    for (let n = 0; n < 6; n++) {
      await db().transaction().execute((trx) => t.runtime.audit.append(trx, tenant.id, { action: 'device.created', actor: { kind: 'user', id: 'seed', ip: null }, details: { n } }));
    }
    const head = await db().selectFrom('audit_heads').select('seq').where('tenant_id', '=', tenant.id).executeTakeFirstOrThrow();
    return { ...tenant, head: Number(head.seq) };
  }
  const verifyApi = async (token: string) => {
    const res = await apiCall(t, 'GET', '/audit/verify', token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const cliEnv = () => childEnv({ CUSTOS_DATA_DIR: t.target.sqliteFile ? path.dirname(t.target.sqliteFile) : t.runtime.config.dataDir, CUSTOS_DATABASE_URL: t.target.postgresUrl, CUSTOS_ROOT_KEY: t.runtime.config.rootKeyBase64 });
  const cliVerify = (slug: string) => {
    const result = runCli(['audit', 'verify', '--tenant', slug, '--json'], cliEnv());
    return { code: result.code, body: result.stdout ? JSON.parse(result.stdout) : result.stderr };
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await tenantWithEvents('verify-a');
    other = await tenantWithEvents('verify-b');
  });
  afterAll(async () => t.close());

  it('an intact chain verifies, and the verification is itself recorded', async () => {
    const result = await verifyApi(admin.token);
    expect(result).toMatchObject({ ok: true, headSeq: result.checked });
    expect(result.checked).toBeGreaterThanOrEqual(admin.head);
    const recorded = await db().selectFrom('audit_events').select(['outcome', 'details']).where('tenant_id', '=', admin.id).where('action', '=', 'audit.verified').orderBy('seq').execute();
    expect(recorded.map((r) => r.outcome)).toEqual(['success']);
  });

  it('events with control characters, quotes and non-ASCII text in any column verify as chain.ts hashes them', async () => {
    const odd = await t.tenantWithAdmin('verify-odd');
    for (const text of ['tab\there\u0001\u001f\u007f', 'quote " back \\ slash', 'line\u2028sep é 漢字 🔐', 'new\nline\r\n"]']) {
      await db().transaction().execute((trx) => t.runtime.audit.append(trx, odd.id, { action: 'device.updated', actor: { kind: 'user', id: text, ip: null }, target: { type: 'device', id: text }, details: { text } }));
    }
    expect(await verifyApi(odd.token)).toMatchObject({ ok: true });
    await sql`update audit_events set target_id = ${'tab	here'} where tenant_id = ${odd.id} and target_id like ${'tab%'}`.execute(db());
    expect(await verifyApi(odd.token)).toMatchObject({ ok: false, problem: { reason: 'altered' } });
  });

  it('a checkpoint signs the head with the tenant key, which the public key verifies', async () => {
    const res = await apiCall(t, 'POST', '/audit/checkpoints', admin.token);
    expect(res.statusCode, res.body).toBe(201);
    const { checkpoint } = res.json();
    const head = await db().selectFrom('audit_events').select(['seq', 'hash']).where('tenant_id', '=', admin.id).orderBy('seq', 'desc').limit(2).execute();
    // The newest event is the record of this checkpoint; the checkpoint signed the head before it.
    expect(checkpoint).toMatchObject({ seq: Number(head[1]!.seq), hash: head[1]!.hash });
    const key = (await apiCall(t, 'GET', '/audit/checkpoints/public-key', admin.token)).json();
    expect(key).toMatchObject({ algorithm: 'ed25519', keyId: checkpoint.keyId });
    expect(JSON.stringify(key)).not.toContain('PRIVATE');
    const publicKey = createPublicKey(key.publicKeyPem);
    expect(keyIdOf(publicKey)).toBe(key.keyId);
    const statement = { tenantId: admin.id, seq: checkpoint.seq, hash: checkpoint.hash, signedAt: Date.parse(checkpoint.signedAt) };
    expect(verifySignature(null, checkpointMessage(statement), publicKey, Buffer.from(checkpoint.signature, 'base64'))).toBe(true);
    expect(verifySignature(null, checkpointMessage({ ...statement, seq: statement.seq + 1 }), publicKey, Buffer.from(checkpoint.signature, 'base64'))).toBe(false);
    const sealed = await db().selectFrom('audit_checkpoint_keys').select('private_key_sealed').where('tenant_id', '=', admin.id).executeTakeFirstOrThrow();
    expect(sealed.private_key_sealed).toMatch(/^v1\./);
    expect(sealed.private_key_sealed).not.toContain('PRIVATE');
    const listed = (await apiCall(t, 'GET', '/audit/checkpoints', admin.token)).json().checkpoints;
    expect(listed[0]).toEqual(checkpoint);
    expect((await verifyApi(admin.token)).checkpoint).toMatchObject({ seq: checkpoint.seq, valid: true });
  });

  it('the schedule checkpoints every tenant whose head moved, and only those', async () => {
    const countOf = async (tenantId: string) => (await db().selectFrom('audit_checkpoints').select('seq').where('tenant_id', '=', tenantId).execute()).length;
    const before = await countOf(admin.id);
    const first = await t.runtime.services.auditCheckpoints.checkpointMovedHeads(SYSTEM_SCOPE);
    expect(first.failed).toBe(0);
    expect(await countOf(admin.id)).toBe(before + 1);
    expect(await countOf(other.id)).toBe(1);
    const again = await t.runtime.services.auditCheckpoints.checkpointMovedHeads(SYSTEM_SCOPE);
    expect(again).toEqual({ signed: 0, failed: 0 });
    expect(await countOf(admin.id)).toBe(before + 1);
    expect(await countOf(SYSTEM_SCOPE)).toBe(0);
  });

  it('verify and checkpoints cover only the caller tenant', async () => {
    const mine = await verifyApi(admin.token);
    const theirs = await verifyApi(other.token);
    const theirHead = await db().selectFrom('audit_heads').select('seq').where('tenant_id', '=', other.id).executeTakeFirstOrThrow();
    expect(theirs.headSeq).toBe(Number(theirHead.seq) - 1);
    expect(theirs.checked).not.toBe(mine.checked);
    const myKey = (await apiCall(t, 'GET', '/audit/checkpoints/public-key', admin.token)).json();
    const theirKey = (await apiCall(t, 'GET', '/audit/checkpoints/public-key', other.token)).json();
    expect(theirKey.keyId).not.toBe(myKey.keyId);
    const theirList = (await apiCall(t, 'GET', '/audit/checkpoints', other.token)).json().checkpoints as { keyId: string }[];
    expect(theirList.length).toBeGreaterThan(0);
    expect(theirList.every((c) => c.keyId === theirKey.keyId)).toBe(true);
  });

  it('permissions: an auditor verifies but may not sign; a user without audit.events.read gets 403', async () => {
    const auditor = await activeUser(t, admin, 'auditor-v', ['auditor']);
    expect((await apiCall(t, 'GET', '/audit/verify', auditor.token)).statusCode).toBe(200);
    const refused = await apiCall(t, 'POST', '/audit/checkpoints', auditor.token);
    expect(refused.statusCode).toBe(403);
    const plain = await activeUser(t, admin, 'plain-v', []);
    for (const url of ['/audit/verify', '/audit/checkpoints', '/audit/checkpoints/public-key']) expect((await apiCall(t, 'GET', url, plain.token)).statusCode, url).toBe(403);
  });

  it('bad input answers 400 and signs nothing', async () => {
    const before = (await apiCall(t, 'GET', '/audit/checkpoints?limit=500', admin.token)).json().checkpoints.length;
    for (const query of ['limit=0', 'limit=501', 'beforeSeq=-1', 'colour=blue']) {
      const res = await apiCall(t, 'GET', `/audit/checkpoints?${query}`, admin.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await apiCall(t, 'GET', '/audit/checkpoints?limit=500', admin.token)).json().checkpoints.length).toBe(before);
  });

  it('a forged checkpoint fails verification', async () => {
    const victim = await tenantWithEvents('verify-forged');
    const { checkpoint } = (await apiCall(t, 'POST', '/audit/checkpoints', victim.token)).json();
    await db().updateTable('audit_checkpoints').set({ hash: 'f'.repeat(64) }).where('tenant_id', '=', victim.id).where('seq', '=', checkpoint.seq).execute();
    const result = await verifyApi(victim.token);
    expect(result).toMatchObject({ ok: false, checkpoint: { seq: checkpoint.seq, valid: false } });
    expect(result.checkpoint.message).toContain('forged');
  });

  describe('tampering is named by the API and the CLI', () => {
    it('an altered detail', async () => {
      const victim = await tenantWithEvents('tamper-alter');
      const mid = victim.head - 3;
      await sql`update audit_events set details = '{"n":99}' where tenant_id = ${victim.id} and seq = ${mid}`.execute(db());
      const result = await verifyApi(victim.token);
      expect(result).toMatchObject({ ok: false, checked: mid - 1, problem: { seq: mid, reason: 'altered' } });
      expect(result.problem.eventId).toEqual(expect.any(String));
      const recorded = await db().selectFrom('audit_events').select(['outcome', 'details']).where('tenant_id', '=', victim.id).where('action', '=', 'audit.verified').executeTakeFirstOrThrow();
      expect(recorded.outcome).toBe('failure');
      expect(JSON.parse(recorded.details)).toMatchObject({ problemSeq: mid, reason: 'altered' });
      // A head that does not check out is never signed.
      await sql`update audit_events set details = '{"n":98}' where tenant_id = ${victim.id} and seq = (select max(seq) from audit_events where tenant_id = ${victim.id})`.execute(db());
      const refused = await apiCall(t, 'POST', '/audit/checkpoints', victim.token);
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error.code).toBe('AUDIT_CHAIN_BROKEN');
      const cli = cliVerify(victim.slug);
      expect(cli.code).toBe(1);
      expect(cli.body).toMatchObject({ ok: false, problem: { seq: mid, reason: 'altered' } });
    }, 90_000);

    it('an id or action edited to hold spaces and line breaks is named as altered', async () => {
      const victim = await tenantWithEvents('tamper-shape');
      const mid = victim.head - 2;
      await sql`update audit_events set action = ${'device.updated\n1 x y'}, id = ${'a b\r\nc'} where tenant_id = ${victim.id} and seq = ${mid}`.execute(db());
      expect(await verifyApi(victim.token)).toMatchObject({ ok: false, checked: mid - 1, problem: { seq: mid, reason: 'altered' } });
    });

    it('a hash column rewritten to smuggle in extra lines or another length is named as altered', async () => {
      const victim = await tenantWithEvents('tamper-hash');
      const mid = victim.head - 2;
      const forged = `${'a'.repeat(64)}\n${mid + 1} ${'b'.repeat(64)} ["custos-audit-v1"]`;
      await sql`update audit_events set hash = ${forged} where tenant_id = ${victim.id} and seq = ${mid}`.execute(db());
      expect(await verifyApi(victim.token)).toMatchObject({ ok: false, checked: mid - 1, problem: { seq: mid, reason: 'altered' } });
      await sql`update audit_events set hash = ${`${'c'.repeat(64)} x`} where tenant_id = ${victim.id} and seq = ${mid}`.execute(db());
      expect(await verifyApi(victim.token)).toMatchObject({ ok: false, checked: mid - 1, problem: { seq: mid, reason: 'altered' } });
    });

    it('a deleted middle event', async () => {
      const victim = await tenantWithEvents('tamper-delete');
      const mid = victim.head - 2;
      await db().deleteFrom('audit_events').where('tenant_id', '=', victim.id).where('seq', '=', mid).execute();
      expect(await verifyApi(victim.token)).toMatchObject({ ok: false, problem: { seq: mid, reason: 'missing' } });
      const cli = cliVerify(victim.slug);
      expect(cli.code).toBe(1);
      expect(cli.body).toMatchObject({ ok: false, problem: { seq: mid, reason: 'missing' } });
    }, 90_000);

    it('a removed run longer than a verify page is named at its first event', async () => {
      const victim = await t.tenantWithAdmin('tamper-run');
      await seedChain({ db: db(), keyring: t.runtime.keyring }, victim.id, 12_000, (n) => ({ action: 'device.updated', actorId: 'seed', details: { n } }), { startAt: t.clock.now() });
      // 4,000-10,500 covers the whole page 5,001-10,000, which then comes back empty with events after it.
      const from = 4_000;
      await db().deleteFrom('audit_events').where('tenant_id', '=', victim.id).where('seq', '>=', from).where('seq', '<=', 10_500).execute();
      expect(await verifyApi(victim.token)).toMatchObject({ ok: false, checked: from - 1, problem: { seq: from, reason: 'missing' } });
    }, 60_000);

    it('deleted last events', async () => {
      const victim = await tenantWithEvents('tamper-tail');
      await db().deleteFrom('audit_events').where('tenant_id', '=', victim.id).where('seq', '>=', victim.head - 1).execute();
      const result = await verifyApi(victim.token);
      expect(result).toMatchObject({ ok: false, checked: victim.head - 2, problem: { reason: 'truncated', seq: victim.head - 1 } });
    });

    it('reordered events', async () => {
      const victim = await tenantWithEvents('tamper-order');
      const a = victim.head - 3;
      const move = (from: number, to: number) => db().updateTable('audit_events').set({ seq: to }).where('tenant_id', '=', victim.id).where('seq', '=', from).execute();
      await move(a, -1);
      await move(a + 1, a);
      await move(-1, a + 1);
      const result = await verifyApi(victim.token);
      expect(result).toMatchObject({ ok: false, checked: a - 1, problem: { seq: a } });
      expect(['altered', 'reordered']).toContain(result.problem.reason);
    });
  });
});
