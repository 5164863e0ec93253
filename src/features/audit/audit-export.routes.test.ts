import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { childEnv, runCli } from '../../../test/support/processes.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import { seedChain } from './chain-seed.js';
import { verifyExport } from './offline-verify.js';

type Admin = Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
const linesOf = (body: string) => body.trimEnd().split('\n');
const parsed = (body: string) => linesOf(body).map((line) => JSON.parse(line) as { type: string; event?: { seq: number; action: string; tenant_id: string }; seq?: number; events?: number; lastSeq?: number; publicKey?: { keyId: string }; contiguous?: boolean });

describe.each(dialects)('audit export on %s', (dialect) => {
  let t: TestApp;
  let admin: Admin;
  let other: Admin;
  const exportOf = async (query: string, token = admin.token) => {
    const res = await apiCall(t, 'GET', `/audit/export?${query}`, token);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    return res;
  };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('export-a');
    other = await t.tenantWithAdmin('export-b');
    const hostile = ['=HYPERLINK("http://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', 'comma, "quoted"\nnew line'];
    // 4,500 events: more than two export pages, so the keyset paging is exercised.
    await seedChain({ db: t.runtime.database.db, keyring: t.runtime.keyring }, admin.id, 4500, (n) => ({
      action: n % 3 === 0 ? 'credential.revealed' : 'device.updated', actorId: n < hostile.length ? hostile[n]! : `user-${n % 7}`, target: { type: 'credential', id: `c-${n}` }, details: { n, note: hostile[n % hostile.length]! },
    }), { startAt: t.clock.now() });
  });
  afterAll(async () => t.close());

  it('jsonl: a header with the public key, every event in order, the covering checkpoints and an end line; it verifies offline', async () => {
    const res = await exportOf('format=jsonl');
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    expect(res.headers['content-disposition']).toMatch(/attachment; filename="audit-.*\.jsonl"/);
    const lines = parsed(res.body);
    const head = await t.runtime.database.db.selectFrom('audit_events').select('seq').where('tenant_id', '=', admin.id).where('action', '!=', 'audit.exported').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(lines[0]).toMatchObject({ type: 'header', format: 'custos-audit-export', version: 1, tenantId: admin.id, contiguous: true, publicKey: { algorithm: 'ed25519' } });
    const events = lines.filter((l) => l.type === 'event').map((l) => l.event!.seq);
    expect(events).toEqual(Array.from({ length: Number(head.seq) }, (_, i) => i + 1));
    const checkpoints = lines.filter((l) => l.type === 'checkpoint');
    expect(checkpoints.at(-1)).toMatchObject({ seq: Number(head.seq), keyId: lines[0]!.publicKey!.keyId });
    expect(lines.at(-1)).toEqual({ type: 'end', events: events.length, firstSeq: 1, lastSeq: Number(head.seq) });
    const key = (await apiCall(t, 'GET', '/audit/checkpoints/public-key', admin.token)).json();
    const report = await verifyExport(async function* () { yield* linesOf(res.body); }, { publicKeyPem: key.publicKeyPem });
    expect(report).toMatchObject({ ok: true, events: events.length, keySource: 'given', problems: [] });
    expect(report.checkpoints.valid).toBeGreaterThan(0);
  });

  it('records audit.exported with the format, filters and count', async () => {
    await exportOf('format=csv&action=credential.*');
    const recorded = await t.runtime.database.db.selectFrom('audit_events').select(['details', 'actor_id']).where('tenant_id', '=', admin.id).where('action', '=', 'audit.exported').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(JSON.parse(recorded.details)).toEqual({ format: 'csv', filters: JSON.stringify({ action: 'credential.*' }), count: 1500, firstSeq: expect.any(Number), lastSeq: expect.any(Number), complete: true });
  });

  it('csv: quoted per RFC 4180 and defused against formula injection', async () => {
    const res = await exportOf('format=csv&toSeq=3000');
    expect(res.headers['content-type']).toContain('text/csv');
    expect(res.body.startsWith('seq,id,occurred_at,action,')).toBe(true);
    expect(res.body).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")",`);
    expect(res.body).toContain(",'+1+1,");
    expect(res.body).toContain(",'-2+3,");
    expect(res.body).toContain(",'@SUM(A1),");
    expect(res.body).toContain('"comma, ""quoted""\nnew line"');
    expect(res.body).not.toMatch(/,[=+@-]/);
    // One header row and 3000 rows (a quoted cell holds a line break, so count row starts instead).
    expect(res.body.match(/\r\n\d+,/g)).toHaveLength(3000);
  });

  it('filters and seq ranges: a filtered jsonl export says it is not contiguous', async () => {
    const lines = parsed((await exportOf('format=jsonl&action=credential.*&fromSeq=100&toSeq=400')).body);
    expect(lines[0]).toMatchObject({ contiguous: false, filters: { action: 'credential.*', fromSeq: 100, toSeq: 400 } });
    const events = lines.filter((l) => l.type === 'event').map((l) => l.event!);
    expect(events.length).toBe(100);
    expect(events.every((e) => e.action === 'credential.revealed' && e.seq >= 100 && e.seq <= 400)).toBe(true);
    const range = parsed((await exportOf('format=jsonl&fromSeq=10&toSeq=19')).body).filter((l) => l.type === 'event').map((l) => l.event!.seq);
    expect(range).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('needs audit.events.export: an auditor may export, a user without it gets 403 and nothing is recorded', async () => {
    const auditor = await activeUser(t, admin, 'auditor-x', ['auditor']);
    expect((await exportOf('format=csv&toSeq=5', auditor.token)).body.split('\r\n').length).toBe(7);
    const plain = await activeUser(t, admin, 'plain-x', []);
    const count = async () => (await t.runtime.database.db.selectFrom('audit_events').select('seq').where('tenant_id', '=', admin.id).where('action', '=', 'audit.exported').orderBy('seq').execute()).length;
    const before = await count();
    expect((await apiCall(t, 'GET', '/audit/export?format=csv', plain.token)).statusCode).toBe(403);
    expect(await count()).toBe(before);
  });

  it("an export covers only the caller's own chain", async () => {
    const lines = parsed((await exportOf('format=jsonl', other.token)).body);
    const events = lines.filter((l) => l.type === 'event').map((l) => l.event!);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.tenant_id === other.id)).toBe(true);
    expect(events.length).toBeLessThan(100);
  });

  it('custos audit export writes a file that custos audit verify --file accepts; a bad filter exits 2', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'custos-export-'));
    try {
      const env = childEnv({ CUSTOS_DATA_DIR: t.target.sqliteFile ? path.dirname(t.target.sqliteFile) : t.runtime.config.dataDir, CUSTOS_DATABASE_URL: t.target.postgresUrl, CUSTOS_ROOT_KEY: t.runtime.config.rootKeyBase64 });
      const out = path.join(dir, 'range.jsonl');
      const exported = runCli(['audit', 'export', '--tenant', admin.slug, '--format', 'jsonl', '--out', out, '--from-seq', '5', '--to-seq', '104'], env);
      expect(exported.code, exported.stderr).toBe(0);
      expect(parsed(readFileSync(out, 'utf8')).filter((l) => l.type === 'event')).toHaveLength(100);
      const verified = runCli(['audit', 'verify', '--file', out, '--json'], childEnv({}));
      expect(verified.code, verified.stdout).toBe(0);
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, events: 100, firstSeq: 5, lastSeq: 104 });
      expect(runCli(['audit', 'export', '--tenant', admin.slug, '--category', 'nope'], env).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('bad input answers 400 VALIDATION_FAILED', async () => {
    for (const query of ['format=xml', 'fromSeq=0', 'fromSeq=9&toSeq=3', 'category=nope', 'from=soon', 'limit=5']) {
      const res = await apiCall(t, 'GET', `/audit/export?${query}`, admin.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
  });
});
