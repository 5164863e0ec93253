import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { createAuditLog } from '../audit/audit-log.js';
import { systemClock } from '../clock.js';
import type { Keyring } from '../crypto/keyring.js';
import { systemActor } from '../actor.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';

describe('the change marker', () => {
  let target: TestDatabase | undefined;
  afterEach(async () => target?.drop());

  it('on SQLite stays put for reads and moves on any write, by this connection or another', async () => {
    target = await createTestDatabase('sqlite');
    const { db, changeMarker } = await target.open();
    const start = changeMarker();
    await db.selectFrom('tenants').selectAll().execute();
    expect(changeMarker()).toBe(start);
    await db.insertInto('custos_meta').values({ key: 'a', value: '1' }).execute();
    const afterLocal = changeMarker();
    expect(afterLocal).not.toBe(start);
    const other = openDatabase({ sqliteFile: target.sqliteFile! });
    await other.db.updateTable('custos_meta').set({ value: '2' }).where('key', '=', 'a').execute();
    await other.close();
    expect(changeMarker()).not.toBe(afterLocal);
  });

  it('counts a write made with RETURNING, and one inside a transaction', async () => {
    target = await createTestDatabase('sqlite');
    const { db, changeMarker } = await target.open();
    const start = changeMarker();
    await db.insertInto('custos_meta').values({ key: 'b', value: '1' }).returning('key').execute();
    const afterReturning = changeMarker();
    expect(afterReturning).not.toBe(start);
    await db.transaction().execute((trx) => sql`update custos_meta set value = '3'`.execute(trx));
    expect(changeMarker()).not.toBe(afterReturning);
  });

  it('stays put for an insert, update or delete that changed no row (a job poll that found nothing)', async () => {
    target = await createTestDatabase('sqlite');
    const { db, changeMarker } = await target.open();
    await db.insertInto('custos_meta').values({ key: 'present', value: '1' }).execute();
    const start = changeMarker();
    await db.updateTable('custos_meta').set({ value: 'x' }).where('key', '=', 'no-such-key').execute();
    await db.deleteFrom('custos_meta').where('key', '=', 'no-such-key').returning('key').execute();
    expect(changeMarker()).toBe(start);
    await db.deleteFrom('custos_meta').where('key', '=', 'present').returning('key').execute();
    expect(changeMarker()).not.toBe(start);
  });

  it('stays put for audit appends (no cached answer reads the audit log) and moves on a rollback', async () => {
    target = await createTestDatabase('sqlite');
    const { db, changeMarker } = await target.open();
    const audit = createAuditLog({ keyring: { deriveKey: async () => Buffer.alloc(32, 7) } as unknown as Keyring, clock: systemClock });
    await db.transaction().execute((trx) => audit.append(trx, 'system', { action: 'tenant.created', actor: systemActor }));
    const start = changeMarker();
    await db.transaction().execute((trx) => audit.append(trx, 'system', { action: 'tenant.created', actor: systemActor }));
    expect(changeMarker()).toBe(start);
    await expect(db.transaction().execute(async (trx) => {
      await trx.selectFrom('tenants').selectAll().execute();
      throw new Error('rolled back');
    })).rejects.toThrow('rolled back');
    expect(changeMarker()).not.toBe(start);
  });

  it.each(dialects.filter((d) => d === 'postgres'))('on %s is null: nothing may be cached on its word', async (dialect) => {
    target = await createTestDatabase(dialect);
    const { changeMarker } = await target.open();
    expect(changeMarker()).toBeNull();
  });
});
