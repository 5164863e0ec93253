import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createMigrationRunner } from '../platform/db/migrate.js';
import { migrations } from './index.js';
import { createTestDatabase, dialects, type TestDatabase } from '../../test/support/databases.js';

describe.each(dialects)('migration 0007 (password policy) on %s', (dialect) => {
  let target: TestDatabase;
  afterEach(async () => target?.drop());

  it("backfills each existing password's change date from the row's last update; pending users stay null", async () => {
    target = await createTestDatabase(dialect);
    const { db } = await target.open({ migrate: false });
    const before = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < '0007'));
    await createMigrationRunner(db, before).up();
    const user = (id: string, hash: string | null, updatedAt: number) =>
      sql`insert into users (tenant_id, id, username, email, display_name, status, password_hash, created_at, updated_at, last_login_at)
          values ('t1', ${id}, ${id}, ${`${id}@x.example`}, null, ${hash ? 'active' : 'pending'}, ${hash}, 1000, ${updatedAt}, null)`.execute(db);
    await user('has-password', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 123_456);
    await user('pending', null, 789);
    expect(await createMigrationRunner(db, migrations).up()).toContain('0007_password_policy');
    const rows = await db.selectFrom('users').select(['id', 'password_changed_at']).orderBy('id').execute();
    expect(rows.map((r) => [r.id, r.password_changed_at === null ? null : Number(r.password_changed_at)])).toEqual([['has-password', 123_456], ['pending', null]]);
    expect(await db.selectFrom('password_history').selectAll().execute()).toEqual([]);
  });
});
