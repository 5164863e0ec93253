import { afterEach, describe, expect, it } from 'vitest';
import { createGroupCommit } from './group-commit.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';

describe.each(dialects)('group commit on %s', (dialect) => {
  let target: TestDatabase | undefined;
  afterEach(async () => target?.drop());

  it('commits concurrent pieces, rolls back only the one that failed, and answers each with its own outcome', async () => {
    target = await createTestDatabase(dialect);
    const database = await target.open();
    const { transact } = createGroupCommit(database);
    const write = (key: string, fail: boolean) =>
      transact(async (trx) => {
        await trx.insertInto('custos_meta').values({ key, value: 'v' }).execute();
        if (fail) throw new Error(`piece ${key} failed`);
        return key;
      });
    const outcomes = await Promise.allSettled([write('gc-1', false), write('gc-2', true), write('gc-3', false), write('gc-1', false)]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('piece gc-2 failed');
    // The fourth repeats the first's key: its unique violation undoes its own insert, not the first's.
    const keys = await database.db.selectFrom('custos_meta').select('key').where('key', 'like', 'gc-%').orderBy('key').execute();
    expect(keys.map((k) => k.key)).toEqual(['gc-1', 'gc-3']);
  });

  it('answers a piece only once what it wrote is committed (readable from another connection)', async () => {
    target = await createTestDatabase(dialect);
    const database = await target.open();
    const other = await target.open({ migrate: false });
    const { transact } = createGroupCommit(database);
    const pieces = Array.from({ length: 5 }, (_, i) => transact((trx) => trx.insertInto('custos_meta').values({ key: `seen-${i}`, value: 'v' }).execute()));
    for (const [i, piece] of pieces.entries()) {
      await piece;
      expect(await other.db.selectFrom('custos_meta').select('key').where('key', '=', `seen-${i}`).executeTakeFirst()).toEqual({ key: `seen-${i}` });
    }
  });
});
