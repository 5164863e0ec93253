import { afterEach, describe, expect, it } from 'vitest';
import { createMigrationRunner } from './migrate.js';
import { migrations } from '../../migrations/index.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../../test/support/databases.js';

describe.each(dialects)('migrations on %s', (dialect) => {
  let target: TestDatabase;
  afterEach(async () => target?.drop());

  it('applies every pending migration once and reports them applied', async () => {
    target = await createTestDatabase(dialect);
    const { db } = await target.open({ migrate: false });
    const runner = createMigrationRunner(db, migrations);
    expect((await runner.status()).every((m) => m.appliedAt === null)).toBe(true);
    expect(await runner.up()).toEqual(Object.keys(migrations));
    expect(await runner.up()).toEqual([]);
    expect(await runner.isCurrent()).toBe(true);
    expect((await runner.status()).every((m) => m.appliedAt !== null)).toBe(true);
  });

  it('refuses a database whose schema is newer than this release', async () => {
    target = await createTestDatabase(dialect);
    const { db } = await target.open();
    const future = { ...migrations, '9999_from_the_future': { up: async () => undefined } };
    await createMigrationRunner(db, future).up();
    const runner = createMigrationRunner(db, migrations);
    await expect(runner.up()).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW' });
    await expect(runner.up()).rejects.toThrow(/9999_from_the_future/);
    expect(await runner.isCurrent()).toBe(false);
  });
});
