import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { nameRecurringStatements } from './pg-statements.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';

describe.runIf(dialects.includes('postgres'))('recurring statements on PostgreSQL', () => {
  let target: TestDatabase | undefined;
  let pool: pg.Pool | undefined;
  let client: pg.PoolClient | undefined;
  afterEach(async () => {
    client?.release();
    await pool?.end();
    await target?.drop();
  });

  async function onePool() {
    target = await createTestDatabase('postgres');
    pool = new pg.Pool({ connectionString: target.postgresUrl!, max: 1 });
    nameRecurringStatements(pool);
    // As Kysely does: a connection from the pool, queried with text and values.
    client = await pool.connect();
    return client;
  }
  const prepared = async (p: pg.PoolClient) => (await p.query('select name, statement from pg_prepared_statements')).rows as { name: string; statement: string }[];

  it('are prepared once on a connection after they recur, and answer with each call\'s values', async () => {
    const p = await onePool();
    const text = 'select $1::int + 1 as n';
    expect((await p.query(text, [1])).rows).toEqual([{ n: 2 }]);
    expect((await prepared(p)).some((s) => s.statement === text)).toBe(false);
    expect((await p.query(text, [2])).rows).toEqual([{ n: 3 }]);
    expect((await p.query(text, [41])).rows).toEqual([{ n: 42 }]);
    expect((await prepared(p)).filter((s) => s.statement === text)).toHaveLength(1);
  });

  it('survive a migration that changes a table under select * (outside a transaction)', async () => {
    const p = await onePool();
    await p.query('create table widened (a int)');
    await p.query('insert into widened values (1)');
    const text = 'select * from widened where a = $1';
    for (let i = 0; i < 3; i += 1) await p.query(text, [1]);
    await p.query('alter table widened add column b int default 7');
    expect((await p.query(text, [1])).rows).toEqual([{ a: 1, b: 7 }]);
    expect((await p.query(text, [1])).rows).toEqual([{ a: 1, b: 7 }]);
  });
});
