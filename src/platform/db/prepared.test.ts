import { afterEach, describe, expect, it } from 'vitest';
import { prepareQuery } from './prepared.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';

describe.each(dialects)('prepared queries on %s', (dialect) => {
  let target: TestDatabase | undefined;
  afterEach(async () => target?.drop());

  it('are built once per database, transactions included, and run with each call\'s arguments', async () => {
    target = await createTestDatabase(dialect);
    const { db } = await target.open();
    let builds = 0;
    const metaValue = prepareQuery(1, (d, key: string) => {
      builds += 1;
      return d.selectFrom('custos_meta').select('value').where('key', '=', key);
    });
    await db.insertInto('custos_meta').values([{ key: 'prepared-a', value: 'A' }, { key: 'prepared-b', value: 'B' }]).execute();
    expect(await metaValue(db, 'prepared-a')).toEqual([{ value: 'A' }]);
    for (const key of ['prepared-a', 'prepared-b']) {
      const inside = await db.transaction().execute((trx) => metaValue(trx, key));
      expect(inside).toEqual([{ value: key.slice(-1).toUpperCase() }]);
    }
    expect(builds).toBe(1);
  });
});
