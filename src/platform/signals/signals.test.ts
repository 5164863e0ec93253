import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.js';
import { dialects } from '../../../test/support/databases.js';
import { systemClock } from '../clock.js';
import { openDatabase, type Database } from '../db/database.js';
import { createLogger } from '../log.js';
import { createSignals, type Signal, type Signals } from './signals.js';

/** Waits until check() holds, polling; fails after the timeout. */
async function eventually(check: () => boolean, timeoutMs: number) {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

describe.each(dialects)('signals on %s', (dialect) => {
  let t: TestApp;
  // Another node (or, on SQLite, another process such as the CLI): its own connection to the same database.
  let otherDatabase: Database;
  let otherNode: Signals;
  const received: Signal[] = [];
  beforeAll(async () => {
    t = await createTestApp(dialect);
    otherDatabase = openDatabase({ postgresUrl: t.target.postgresUrl, sqliteFile: t.target.sqliteFile });
    otherNode = createSignals({ database: otherDatabase, postgresUrl: t.target.postgresUrl, clock: systemClock, log: createLogger({ level: 'silent' }) });
    otherNode.subscribe('*', (signal) => void received.push(signal));
    await otherNode.start();
    await t.runtime.signals.start();
  });
  afterAll(async () => {
    await otherNode.stop();
    await otherDatabase.close();
    await t.close();
  });

  it('a signal published in a committed transaction reaches the other node within a second; a rolled-back one never does', async () => {
    const db = t.runtime.database.db;
    await db.transaction().execute((trx) => t.runtime.signals.publish(trx, { kind: 'test.committed', tenantId: 't1', subject: { type: 'user', id: 'u1' } }));
    await db
      .transaction()
      .execute(async (trx) => {
        await t.runtime.signals.publish(trx, { kind: 'test.rolled-back', tenantId: 't1' });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await db.transaction().execute((trx) => t.runtime.signals.publish(trx, { kind: 'test.after', tenantId: 't1' }));
    expect(await eventually(() => received.some((s) => s.kind === 'test.after'), 1000)).toBeLessThan(1000);
    const kinds = received.filter((s) => s.kind.startsWith('test.')).map((s) => s.kind);
    expect(kinds).toEqual(['test.committed', 'test.after']);
    expect(received.find((s) => s.kind === 'test.committed')).toEqual({ kind: 'test.committed', tenantId: 't1', subject: { type: 'user', id: 'u1' } });
  });

  it('deactivating a user publishes user.deactivated to every node', async () => {
    const admin = await t.tenantWithAdmin('signals-tenant');
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/users', headers: { authorization: `Bearer ${admin.token}` }, payload: { username: 'leaver', email: 'leaver@x.example' } });
    const userId = created.json().user.id as string;
    const local: Signal[] = [];
    const unsubscribe = t.runtime.signals.subscribe('user.deactivated', (signal) => void local.push(signal));
    const res = await t.app.inject({ method: 'PATCH', url: `/api/v1/users/${userId}`, headers: { authorization: `Bearer ${admin.token}` }, payload: { status: 'inactive' } });
    expect(res.statusCode, res.body).toBe(200);
    const expected = { kind: 'user.deactivated', tenantId: admin.id, subject: { type: 'user', id: userId } };
    await eventually(() => received.some((s) => s.kind === 'user.deactivated') && local.length > 0, 1000);
    expect(received.filter((s) => s.kind === 'user.deactivated')).toEqual([expected]);
    expect(local).toEqual([expected]);
    unsubscribe();
  });
});
