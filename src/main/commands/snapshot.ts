import { Command } from 'commander';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { loadRootKey } from '../../platform/crypto/root-key.js';
import { openDatabase } from '../../platform/db/database.js';
import { invalid } from '../../platform/errors.js';
import { restoreSystem } from '../../features/snapshots/snapshot-restore.js';
import { resolveSnapshotFile } from '../../features/snapshots/snapshots.service.js';
import { cliActor, configOf, withRuntime } from './context.js';
import { printJson, printLines, printTable } from './output.js';
import { startProgress } from './progress.js';

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** A progress bar started at the first report, once the total is known (silent when stderr is not a terminal). */
function lazyProgress(label: string): { onProgress: (done: number, total: number) => void; stop: () => void } {
  let bar: ReturnType<typeof startProgress> | null = null;
  return {
    onProgress: (done, total) => {
      bar ??= startProgress(label, total);
      bar.update(done);
    },
    stop: () => bar?.stop(),
  };
}

/** `custos snapshot create|list|verify`: encrypted, consistent snapshots of the whole system or one tenant. */
export function snapshotCommand(): Command {
  const snapshot = new Command('snapshot').description('encrypted snapshots of the whole system or of one tenant');

  snapshot
    .command('create')
    .option('--tenant <slug>', 'snapshot this tenant only')
    .option('--json', 'print one JSON document')
    .description('take a consistent snapshot (one read transaction; writers are not held up)')
    .action(async (opts: { tenant?: string; json?: boolean }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const progress = lazyProgress(`snapshot ${opts.tenant ?? 'system'}`);
        const taken = await runtime.services.snapshots.create(cliActor(), { tenantSlug: opts.tenant, onProgress: progress.onProgress }).finally(progress.stop);
        const { id, path, createdAt, scope, bytes, rows, seconds } = taken;
        if (opts.json) return printJson({ id, path, createdAt, scope, bytes, rows, seconds, parts: taken.parts });
        printLines(`Snapshot ${id} of ${scope.kind === 'tenant' ? `tenant ${scope.slug}` : 'the whole system'}: ${rows} rows in ${taken.parts.length} tables, ${mb(bytes)}, ${seconds.toFixed(1)} s.`, `Written to ${path}. Check it with: custos snapshot verify ${id}`);
      });
    });

  snapshot
    .command('list')
    .option('--json', 'print one JSON document')
    .description('the snapshots in the snapshot directory, newest first')
    .action(async (opts: { json?: boolean }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const found = runtime.services.snapshots.list();
        if (opts.json) return printJson({ snapshots: found });
        if (found.length === 0) return printLines(`No snapshots in ${runtime.config.snapshotDir}. Take one with: custos snapshot create`);
        printTable(['ID', 'CREATED', 'SCOPE', 'SIZE'], found.map((s) => [s.id, s.createdAt, s.scope.kind === 'tenant' ? `tenant ${s.scope.slug}` : 'system', mb(s.bytes)]));
      });
    });

  snapshot
    .command('verify')
    .argument('<id-or-path>', 'a snapshot id (from custos snapshot list) or a snapshot file')
    .option('--json', 'print one JSON document')
    .description('decrypt every part and check its row count and SHA-256 against the manifest')
    .action(async (ref: string, opts: { json?: boolean }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const progress = lazyProgress('verify');
        let result;
        try {
          result = runtime.services.snapshots.verify(ref, { onProgress: progress.onProgress });
        } finally {
          progress.stop();
        }
        const { manifest } = result;
        if (opts.json) return printJson({ ok: true, path: result.path, bytes: result.bytes, rows: result.rows, manifest });
        printLines(`Snapshot ${manifest.id} is intact: ${result.rows} rows in ${manifest.parts.length} tables, schema ${manifest.schemaVersion}, taken by Custos ${manifest.custosVersion} on ${manifest.dialect} at ${manifest.createdAt}.`);
      });
    });
  snapshot
    .command('restore')
    .argument('<id-or-path>', 'a snapshot id (in the snapshot directory) or a snapshot file')
    .option('--tenant <slug>', 'restore this tenant only, into the running system (from a tenant or a system snapshot)')
    .option('--yes', 'confirm: the store (or the tenant) is replaced by the snapshot')
    .option('--json', 'print one JSON document')
    .description('restore a whole-system snapshot into an empty data directory or database, or one tenant into the running system (needs the root key it was taken under)')
    .action(async (ref: string, opts: { tenant?: string; yes?: boolean; json?: boolean }, command: Command) => {
      const config = configOf(command);
      if (opts.tenant !== undefined) {
        if (!opts.yes) throw invalid('CONFIRMATION_REQUIRED', `Restoring replaces every row of tenant ${opts.tenant} with the snapshot's and signs its users out; run again with --yes to go ahead.`);
        return withRuntime(command, async (runtime) => {
          const progress = lazyProgress(`restore ${opts.tenant}`);
          const restored = await runtime.services.snapshots.restoreTenant(cliActor(), ref, { slug: opts.tenant, onProgress: progress.onProgress }).finally(progress.stop);
          const { manifest, tenantId, slug, rows, seconds } = restored;
          if (opts.json) return printJson({ id: manifest.id, takenAt: manifest.createdAt, tenantId, slug, rows, seconds });
          printLines(`Restored tenant ${slug} from snapshot ${manifest.id} (taken ${manifest.createdAt}): ${rows} rows in ${seconds.toFixed(1)} s. Its users sign in again.`);
        });
      }
      if (!opts.yes) throw invalid('CONFIRMATION_REQUIRED', `Restoring builds ${config.databaseUrl ? 'the database' : config.dataDir} from snapshot ${ref}; run again with --yes to go ahead.`);
      const rootKey = loadRootKey(config);
      if (!rootKey) throw invalid('ROOT_KEY_MISSING', `Restoring needs the root key the snapshot was taken under: put it in ${config.rootKeyFile} (chmod 600) or set CUSTOS_ROOT_KEY.`);
      const file = resolveSnapshotFile(ref, config.snapshotDir);
      if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      const target = openDatabase(config.databaseUrl ? { postgresUrl: config.databaseUrl } : { sqliteFile: path.join(config.dataDir, 'custos.db') });
      let restored;
      const progress = lazyProgress('restore');
      try {
        restored = await restoreSystem({ target, bytes: readFileSync(file), rootKey: rootKey.key, onProgress: progress.onProgress });
      } finally {
        progress.stop();
        await target.close();
      }
      const { manifest, rows, migrated } = restored;
      await withRuntime(command, (runtime) => runtime.database.db.transaction().execute((trx) => runtime.audit.append(trx, SYSTEM_SCOPE, { action: 'snapshot.restored', actor: cliActor(), details: { snapshotId: manifest.id, takenAt: manifest.createdAt, rows, migrated } })));
      if (opts.json) return printJson({ id: manifest.id, takenAt: manifest.createdAt, rows, schemaVersion: manifest.schemaVersion, migrated, target: target.location });
      printLines(`Restored snapshot ${manifest.id} (taken ${manifest.createdAt}): ${rows} rows into ${target.location}${migrated.length ? `, then applied ${migrated.length} migration(s)` : ''}.`, 'Start the server as usual: custos server');
    });
  return snapshot;
}
