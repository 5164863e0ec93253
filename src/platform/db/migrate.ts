import { Migrator, type Migration, type Kysely } from 'kysely';
import { FatalConfigError } from '../errors.js';
import type { Schema } from './schema.js';

/** One migration and whether it has run here. */
export interface MigrationState {
  name: string;
  appliedAt: string | null;
}

/** Runs the ordered migrations; refuses a database that has migrations this release does not know. */
export function createMigrationRunner(db: Kysely<Schema>, migrations: Record<string, Migration>) {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });

  async function status(): Promise<MigrationState[]> {
    const known = await migrator.getMigrations();
    return known.map((m) => ({ name: m.name, appliedAt: m.executedAt ? m.executedAt.toISOString() : null }));
  }

  /** Names recorded in the database that this release does not ship: the schema is newer than the code. */
  async function unknownApplied(): Promise<string[]> {
    const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
    if (!tables.some((t) => t.name === 'kysely_migration')) return [];
    const rows = await (db as unknown as Kysely<{ kysely_migration: { name: string } }>)
      .selectFrom('kysely_migration')
      .select('name')
      .execute();
    return rows.map((r) => r.name).filter((name) => !(name in migrations));
  }

  async function assertNotNewer(): Promise<void> {
    const unknown = await unknownApplied();
    if (unknown.length > 0) {
      throw new FatalConfigError(
        'SCHEMA_TOO_NEW',
        `The database schema is newer than this Custos release (it has ${unknown.join(', ')}, which this release does not know). ` +
          'Run the newer Custos release, or restore a snapshot taken for this one.',
      );
    }
  }

  /** Applies every pending migration; returns the names it applied. */
  async function up(): Promise<string[]> {
    await assertNotNewer();
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new FatalConfigError('MIGRATION_FAILED', `Migration ${failed} failed: ${(error as Error).message}`);
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /** Applies the pending migrations up to and including `name` (a restore rebuilds a snapshot's schema first). */
  async function upTo(name: string): Promise<string[]> {
    if (!(name in migrations)) throw new FatalConfigError('SCHEMA_TOO_NEW', `Migration ${name} is not one this Custos release knows: the snapshot was taken by a newer release. Restore it with that release.`);
    const { error, results } = await migrator.migrateTo(name);
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new FatalConfigError('MIGRATION_FAILED', `Migration ${failed} failed: ${(error as Error).message}`);
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  }

  /** True when every migration this release ships has been applied and none it does not know. */
  async function isCurrent(): Promise<boolean> {
    const [states, unknown] = await Promise.all([status(), unknownApplied()]);
    return unknown.length === 0 && states.every((s) => s.appliedAt !== null);
  }

  /** Migrations this release ships that the database lacks; a newer database (expand phase) still serves. */
  async function pending(): Promise<string[]> {
    return (await status()).filter((s) => s.appliedAt === null).map((s) => s.name);
  }

  return { status, up, upTo, assertNotNewer, isCurrent, pending };
}
export type MigrationRunner = ReturnType<typeof createMigrationRunner>;
