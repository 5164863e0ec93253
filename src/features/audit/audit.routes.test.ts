import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { activeUser, apiCall } from '../../../test/support/users.js';
import type { AuditEntry } from '../../platform/audit/audit-log.js';

type Admin = Awaited<ReturnType<TestApp['tenantWithAdmin']>>;
interface Listed { seq: number; action: string; category: string; severity: number; outcome: string; actor: { id: string | null; ip: string | null }; target: { type: string; id: string | null } | null; details: Record<string, unknown>; occurredAt: string }

describe.each(dialects)('audit search on %s', (dialect) => {
  let t: TestApp;
  let admin: Admin;
  let other: Admin;
  let seeded: { first: number; last: number; midTime: string };

  /** Appends events straight to a tenant's chain, one transaction each, a second apart. */
  async function seed(tenantId: string, entries: AuditEntry[]) {
    const seqs: number[] = [];
    for (const entry of entries) {
      t.clock.advance(1000);
      seqs.push((await t.runtime.database.db.transaction().execute((trx) => t.runtime.audit.append(trx, tenantId, entry))).seq);
    }
    return seqs;
  }
  const user = (id: string, ip = '10.0.0.1') => ({ kind: 'user' as const, id, ip });
  const search = async (query: string, token = admin.token) => {
    const res = await apiCall(t, 'GET', `/audit/events?${query}`, token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { events: Listed[]; nextCursor: string | null };
  };
  const seqsOf = async (query: string) => (await search(query)).events.map((e) => e.seq);

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.tenantWithAdmin('audit-a');
    other = await t.tenantWithAdmin('audit-b');
    const first = await seed(admin.id, [
      { action: 'credential.revealed', actor: user('alice'), target: { type: 'credential', id: 'cred-1' }, details: { justification: 'Ticket 100% urgent' } },
      { action: 'auth.login.failed', actor: user('mallory', '203.0.113.9'), outcome: 'failure', details: { username: 'root' } },
      { action: 'device.created', actor: user('bob'), target: { type: 'device', id: 'dev-1' }, details: { name: 'db-01' } },
    ]);
    const midTime = new Date(t.clock.now() + 500).toISOString();
    const later = await seed(admin.id, [
      { action: 'credential.checked_out', actor: user('alice'), target: { type: 'credential', id: 'cred-2' }, details: {} },
      { action: 'credential.revealed', actor: user('bob'), target: { type: 'credential', id: 'cred-1' }, details: { justification: 'night shift' } },
      { action: 'auth.login.failed', actor: user('mallory', '203.0.113.9'), outcome: 'failure', details: { username: 'admin' } },
    ]);
    await seed(other.id, [{ action: 'credential.revealed', actor: user('alice'), target: { type: 'credential', id: 'cred-1' }, details: { justification: 'other tenant' } }]);
    seeded = { first: first[0]!, last: later[later.length - 1]!, midTime };
  });
  afterAll(async () => t.close());

  it('answers events newest first in the documented shape', async () => {
    const { events } = await search('limit=3');
    expect(events.map((e) => e.seq)).toEqual([seeded.last, seeded.last - 1, seeded.last - 2]);
    expect(events[0]).toEqual({
      seq: seeded.last, id: expect.any(String), occurredAt: new Date(Date.parse(events[1]!.occurredAt) + 1000).toISOString(), action: 'auth.login.failed', typeId: 3004, category: 'auth', severity: 6, outcome: 'failure',
      actor: { kind: 'user', id: 'mallory', ip: '203.0.113.9' }, target: null, details: { username: 'admin' },
    });
    expect(events[1]!.target).toEqual({ type: 'credential', id: 'cred-1' });
  });

  it('the cursor pages through every event exactly once', async () => {
    const all: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: Listed[]; nextCursor: string | null } = await search(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.events.length).toBeLessThanOrEqual(2);
      all.push(...page.events.map((e) => e.seq));
      cursor = page.nextCursor;
    } while (cursor);
    expect(all).toEqual([...all].sort((a, b) => b - a));
    expect(new Set(all).size).toBe(all.length);
    expect(all[0]).toBe(seeded.last);
    expect(all[all.length - 1]).toBe(1);
  });

  it('filters by action, an action prefix, category and severity', async () => {
    const { first, last } = seeded;
    expect(await seqsOf('action=credential.revealed')).toEqual([last - 1, first]);
    expect(await seqsOf('action=credential.*')).toEqual([last - 1, last - 2, first]);
    expect(await seqsOf('action=credential.*&limit=2')).toEqual([last - 1, last - 2]);
    expect(await seqsOf('category=auth&outcome=failure')).toEqual([last, first + 1]);
    expect((await search('minSeverity=7')).events.every((e) => e.severity >= 7)).toBe(true);
    expect(await seqsOf('minSeverity=7&actorId=alice')).toEqual([last - 2, first]);
    expect(await seqsOf('severity=4&category=vault')).toEqual([first + 2]);
    expect(await seqsOf('action=no.such.action')).toEqual([]);
  });

  it('filters by actor, target, outcome and source address', async () => {
    const { first, last } = seeded;
    expect(await seqsOf('actorId=alice')).toEqual([last - 2, first]);
    expect(await seqsOf('targetType=credential&targetId=cred-1')).toEqual([last - 1, first]);
    expect(await seqsOf('targetId=dev-1')).toEqual([first + 2]);
    expect(await seqsOf('sourceIp=203.0.113.9')).toEqual([last, first + 1]);
    expect(await seqsOf('outcome=failure&sourceIp=203.0.113.9&limit=1')).toEqual([last]);
  });

  it('free text matches action, actor, target and details, case-insensitively and literally', async () => {
    const { first, last } = seeded;
    expect(await seqsOf('q=NIGHT%20shift')).toEqual([last - 1]);
    expect(await seqsOf('q=100%25')).toEqual([first]);
    expect(await seqsOf('q=mallory')).toEqual([last, first + 1]);
    expect(await seqsOf('q=dev-1')).toEqual([first + 2]);
    expect(await seqsOf('q=%25%25%25')).toEqual([]);
  });

  it('a time range keeps the events between from and to', async () => {
    const { first, last, midTime } = seeded;
    expect(await seqsOf(`from=${midTime}&action=credential.*`)).toEqual([last - 1, last - 2]);
    expect(await seqsOf(`to=${midTime}&action=credential.*`)).toEqual([first]);
    expect(await seqsOf(`from=${midTime}&to=${midTime}`)).toEqual([]);
    expect(await seqsOf('from=2999-01-01T00:00:00Z')).toEqual([]);
  });

  it('bad filters answer 400 VALIDATION_FAILED', async () => {
    for (const query of ['category=nope', 'from=yesterday', 'to=2026-13-01T00:00:00Z', 'cursor=garbage', 'cursor=eyJ2IjoxLCJzIjotMX0', 'limit=0', 'limit=501', 'limit=ten', 'minSeverity=11', 'outcome=maybe', 'action=DROP%20TABLE', 'colour=blue', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z']) {
      const res = await apiCall(t, 'GET', `/audit/events?${query}`, admin.token);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().error.code, query).toBe('VALIDATION_FAILED');
    }
  });

  it('needs audit.events.read: an auditor may search, a user without it gets 403', async () => {
    const auditor = await activeUser(t, admin, 'auditor1', ['auditor']);
    expect((await search('limit=1', auditor.token)).events).toHaveLength(1);
    const plain = await activeUser(t, admin, 'plain1', []);
    const res = await apiCall(t, 'GET', '/audit/events', plain.token);
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
  });

  it("a tenant never sees another tenant's events", async () => {
    const theirs = await search('action=credential.revealed', other.token);
    expect(theirs.events.map((e) => e.details)).toEqual([{ justification: 'other tenant' }]);
    const mine = await search('limit=500');
    expect(mine.events.some((e) => e.details.justification === 'other tenant')).toBe(false);
    const theirAll = await search('limit=500', other.token);
    expect(theirAll.events.some((e) => e.actor.id === 'mallory')).toBe(false);
  });
});
