import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { childEnv, runCli } from '../../../test/support/processes.js';
import { apiCall } from '../../../test/support/users.js';
import { eventHash } from '../../platform/audit/chain.js';
import { seedChain } from './chain-seed.js';
import { verifyExport, type ExportReport } from './offline-verify.js';

interface Line { type: string; event?: Record<string, unknown> & { seq: number; id: string; hash: string; prev_hash: string }; seq?: number; hash?: string; events?: number; lastSeq?: number }

describe.each(dialects)('offline verification of an export on %s', (dialect) => {
  let t: TestApp;
  let lines: string[];
  let publicKeyPem: string;
  let otherKeyPem: string;
  let dir: string;
  const check = (edited: string[], key: string | null = publicKeyPem): Promise<ExportReport> => verifyExport(async function* () { yield* edited; }, { publicKeyPem: key ?? undefined });
  const parsedAt = (i: number) => JSON.parse(lines[i]!) as Line;
  /** A copy of the export's lines with one edit applied (index 0 is the header, so event #n is at index n). */
  const edit = (fn: (copy: string[]) => void) => {
    const copy = [...lines];
    fn(copy);
    return copy;
  };
  // No database and no server: a data dir that does not exist and no root key.
  const offlineCli = (args: string[]) => runCli(['audit', 'verify', ...args], childEnv({ CUSTOS_DATA_DIR: path.join(dir, 'no-installation-here') }));

  beforeAll(async () => {
    t = await createTestApp(dialect);
    dir = mkdtempSync(path.join(os.tmpdir(), 'custos-offline-'));
    const admin = await t.tenantWithAdmin('offline-a');
    const other = await t.tenantWithAdmin('offline-b');
    await seedChain({ db: t.runtime.database.db, keyring: t.runtime.keyring }, admin.id, 40, (n) => ({ action: 'device.updated', actorId: `user-${n % 3}`, details: { n } }), { startAt: t.clock.now() });
    // A checkpoint in the middle of the range, and (made by the export) one at its end.
    expect((await apiCall(t, 'POST', '/audit/checkpoints', admin.token)).statusCode).toBe(201);
    await seedChain({ db: t.runtime.database.db, keyring: t.runtime.keyring }, admin.id, 20, (n) => ({ action: 'device.updated', actorId: 'late', details: { n } }), { startAt: t.clock.now() + 100_000 });
    const res = await apiCall(t, 'GET', '/audit/export?format=jsonl', admin.token);
    lines = res.body.trimEnd().split('\n');
    publicKeyPem = (await apiCall(t, 'GET', '/audit/checkpoints/public-key', admin.token)).json().publicKeyPem;
    otherKeyPem = (await apiCall(t, 'GET', '/audit/checkpoints/public-key', other.token)).json().publicKeyPem;
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an untouched export verifies with the published key; with only the embedded key it warns', async () => {
    const report = await check(lines);
    expect(report).toMatchObject({ ok: true, problems: [], keySource: 'given', checkpoints: { total: 2, valid: 2 } });
    expect(report.warnings).toEqual([]);
    const embedded = await check(lines, null);
    expect(embedded).toMatchObject({ ok: true, keySource: 'embedded' });
    expect(embedded.warnings.join(' ')).toContain('not that it came from this tenant');
  });

  it('an altered line is named by line number, seq and event id', async () => {
    const target = parsedAt(20).event!;
    const report = await check(edit((c) => { c[20] = c[20]!.replace('"n\\":', '"n\\":1'); }));
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ line: 21, seq: target.seq, eventId: target.id, reason: 'altered' });
    expect(report.problems[0]!.message).toContain(`line 21 (event #${target.seq}, ${target.id}) was altered`);
  });

  it('an altered and re-hashed line breaks the next link and is named', async () => {
    const report = await check(edit((c) => {
      const line = JSON.parse(c[10]!) as Line;
      line.event!.details = '{"n":"rewritten"}';
      line.event!.hash = eventHash(line.event as never);
      c[10] = JSON.stringify(line);
    }));
    expect(report.problems.map((p) => [p.line, p.reason])).toContainEqual([11, 'altered']);
  });

  it('a removed line names the missing seq; removed last lines are caught by the checkpoint of the head', async () => {
    const removed = parsedAt(15).event!.seq;
    const report = await check(edit((c) => c.splice(15, 1)));
    expect(report.problems).toContainEqual(expect.objectContaining({ reason: 'removed', seq: removed }));
    expect(report.problems.find((p) => p.reason === 'removed')!.message).toContain(`event #${removed} is missing`);
    // The attacker drops the last three events and fixes the end line to match.
    const cut = edit((c) => {
      const events = c.filter((l) => l.startsWith('{"type":"event"'));
      const kept = events.slice(0, -3);
      const last = (JSON.parse(kept.at(-1)!) as Line).event!.seq;
      c.splice(0, c.length, c[0]!, ...kept, ...c.filter((l) => l.startsWith('{"type":"checkpoint"')), JSON.stringify({ type: 'end', events: kept.length, firstSeq: 1, lastSeq: last }));
    });
    const tail = await check(cut);
    expect(tail.problems).toContainEqual(expect.objectContaining({ reason: 'truncated' }));
  });

  it('reordered and inserted lines are named', async () => {
    const swapped = await check(edit((c) => { [c[5], c[6]] = [c[6]!, c[5]!]; }));
    expect(swapped.problems).toContainEqual(expect.objectContaining({ reason: 'reordered', line: 7, seq: parsedAt(5).event!.seq }));
    expect(swapped.problems.filter((p) => p.reason === 'removed')).toEqual([]);
    const duplicated = await check(edit((c) => c.splice(9, 0, c[8]!)));
    expect(duplicated.problems).toContainEqual(expect.objectContaining({ reason: 'inserted', line: 10 }));
  });

  it('a forged checkpoint, and the wrong public key, fail', async () => {
    const index = lines.findIndex((l) => l.startsWith('{"type":"checkpoint"'));
    const forged = await check(edit((c) => { c[index] = c[index]!.replace(/"hash":"[0-9a-f]{4}/, '"hash":"0000'); }));
    expect(forged.problems).toContainEqual(expect.objectContaining({ reason: 'checkpoint_forged', line: index + 1 }));
    const wrongKey = await check(lines, otherKeyPem);
    expect(wrongKey.ok).toBe(false);
    expect(wrongKey.problems.every((p) => p.reason === 'checkpoint_forged')).toBe(true);
    expect(wrongKey.problems[0]!.message).toContain('wrong key');
  });

  it('custos audit verify --file works with no database: exit 0 intact, 1 tampered naming the line, 2 unreadable', () => {
    const good = path.join(dir, 'good.jsonl');
    const bad = path.join(dir, 'bad.jsonl');
    const key = path.join(dir, 'key.pem');
    writeFileSync(good, `${lines.join('\n')}\n`);
    writeFileSync(bad, `${edit((c) => c.splice(12, 1)).join('\n')}\n`);
    writeFileSync(key, publicKeyPem);
    const intact = offlineCli(['--file', good, '--public-key', key]);
    expect(intact.code, intact.stderr).toBe(0);
    expect(intact.stdout).toContain('is intact');
    const embedded = offlineCli(['--file', good]);
    expect(embedded.code).toBe(0);
    expect(embedded.stderr).toContain('embedded in the file');
    const tampered = offlineCli(['--file', bad, '--public-key', key, '--json']);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout).problems).toContainEqual(expect.objectContaining({ reason: 'removed', seq: parsedAt(12).event!.seq }));
    expect(offlineCli(['--file', path.join(dir, 'missing.jsonl')]).code).toBe(2);
    writeFileSync(path.join(dir, 'notes.txt'), 'hello\n');
    expect(offlineCli(['--file', path.join(dir, 'notes.txt')]).code).toBe(2);
  }, 120_000);
});
