import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
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

  it.each(dialects.filter((d) => d === 'postgres'))('on %s is null: nothing may be cached on its word', async (dialect) => {
    target = await createTestDatabase(dialect);
    const { changeMarker } = await target.open();
    expect(changeMarker()).toBeNull();
  });
});
