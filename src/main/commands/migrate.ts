import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { openDatabase } from '../../platform/db/database.js';
import { createMigrationRunner } from '../../platform/db/migrate.js';
import { migrations } from '../../migrations/index.js';
import { pino } from 'pino';
import { createLogger } from '../../platform/log.js';
import { hasKeyCheck, openRuntime } from '../runtime.js';
import { configOf } from './context.js';
import { printJson, printLines, printTable } from './output.js';

/** `custos migrate status|up`: inspect and apply schema migrations (no root key needed). */
export function migrateCommand(): Command {
  const migrate = new Command('migrate').description('schema migrations');
  const open = (command: Command) => {
    const config = configOf(command);
    if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const database = openDatabase(config.databaseUrl ? { postgresUrl: config.databaseUrl } : { sqliteFile: path.join(config.dataDir, 'custos.db') });
    return { database, runner: createMigrationRunner(database.db, migrations) };
  };

  migrate
    .command('status')
    .option('--json', 'print one JSON document')
    .description('list migrations and whether each is applied')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { database, runner } = open(command);
      try {
        await runner.assertNotNewer();
        const states = await runner.status();
        if (opts.json) return printJson({ migrations: states, current: states.every((s) => s.appliedAt) });
        printTable(['MIGRATION', 'APPLIED'], states.map((s) => [s.name, s.appliedAt ?? 'pending']));
      } finally {
        await database.close();
      }
    });

  migrate
    .command('up')
    .option('--no-snapshot', 'do not take the system snapshot first (then no root key is needed)')
    .description('take a system snapshot of an existing store, then apply every pending migration')
    .action(async (opts: { snapshot: boolean }, command: Command) => {
      const { database, runner } = open(command);
      // An existing store with something to apply is snapshotted first: openRuntime does both and records it.
      if (opts.snapshot && (await runner.pending()).length > 0 && (await hasKeyCheck(database))) {
        await database.close();
        const config = configOf(command);
        const runtime = await openRuntime(config, { initialise: false, log: createLogger({ level: 'warn', destination: pino.destination(2) }) });
        try {
          const { applied, snapshot } = runtime.migrated;
          return printLines(`Took snapshot ${snapshot!.id} (${snapshot!.path}) first.`, `Applied ${applied.length} migration(s): ${applied.join(', ')}`);
        } finally {
          await runtime.close();
        }
      }
      try {
        const applied = await runner.up();
        printLines(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(', ')}` : 'The schema is current; nothing to apply.');
      } finally {
        await database.close();
      }
    });
  return migrate;
}
