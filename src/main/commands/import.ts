import { readFileSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { DomainError, invalid } from '../../platform/errors.js';
import { importFormats, type ImportFormat, type ImportRowError } from '../../features/transfer/transfer.schemas.js';
import type { ImportProgress } from '../../features/transfer/transfer.service.js';
import { cliActor, withRuntime } from './context.js';
import { printJson, printLines } from './output.js';

const phaseLabel = { validate: 'checking', write: 'writing' } as const;

/** A progress bar on stderr when it is a terminal; otherwise one line per 10% of each phase. */
function importProgress(): { report: ImportProgress; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar({ format: '{phase} [{bar}] {value}/{total} rows', stream: process.stderr }, cliProgress.Presets.shades_classic);
    let phase: string | null = null;
    return {
      report: (next, done, total) => {
        if (total < 1) return;
        if (phase !== next) {
          if (phase) bar.stop();
          phase = next;
          bar.start(total, done, { phase: phaseLabel[next] });
        } else bar.update(done);
      },
      stop: () => {
        if (phase) bar.stop();
      },
    };
  }
  const printed = new Map<string, number>();
  return {
    report: (phase, done, total) => {
      if (total < 1) return;
      const decile = Math.floor((done / total) * 10);
      if ((printed.get(phase) ?? -1) >= decile) return;
      printed.set(phase, decile);
      process.stderr.write(`${phaseLabel[phase]}: ${decile * 10}% (${done}/${total} rows)\n`);
    },
    stop: () => undefined,
  };
}

const describeRow = (e: ImportRowError) => (e.row === 0 ? 'file' : `${e.section ? `${e.section} ` : ''}row ${e.row}`);

/** `custos import --tenant SLUG FILE`: devices and credentials from a JSON or CSV file, all rows or none. */
export function importCommand(): Command {
  return new Command('import')
    .argument('<file>', 'a .json or .csv file in the import format (docs/user-guide.md section 21)')
    .requiredOption('--tenant <slug>', 'the tenant to import into')
    .option('--format <format>', 'json or csv (default: from the file extension)')
    .option('--dry-run', 'check every row, the database included, and write nothing')
    .option('--json', 'print one JSON document')
    .description("import a tenant's devices and credentials from a file (all rows or none; audited as vault.imported)")
    .action(async (file: string, opts: { tenant: string; format?: string; dryRun?: boolean; json?: boolean }, command: Command) => {
      const format = (opts.format ?? path.extname(file).slice(1).toLowerCase()) as ImportFormat;
      if (!importFormats.includes(format)) throw invalid('VALIDATION_FAILED', `Say the file's format with --format json or --format csv (the extension "${path.extname(file)}" does not tell).`);
      let data: string;
      try {
        data = readFileSync(file, 'utf8');
      } catch (error) {
        throw invalid('FILE_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`);
      }
      const progress = importProgress();
      let outcome;
      try {
        outcome = await withRuntime(command, async (rt) => {
          const tenant = await rt.services.tenants.get(opts.tenant);
          return rt.services.transfer.importFile({ ...cliActor(), tenantId: tenant.id }, { format, data, dryRun: opts.dryRun ?? false }, { onProgress: progress.report });
        });
      } catch (error) {
        progress.stop();
        if (!(error instanceof DomainError && error.code === 'IMPORT_INVALID')) throw error;
        const errors = (error.details?.errors ?? []) as ImportRowError[];
        if (opts.json) printJson({ ok: false, error: { code: error.code, message: error.message }, errors });
        else process.stderr.write(`${errors.map((e) => `${describeRow(e)}: ${e.field}: ${e.message} (${e.code})`).join('\n')}\nerror: ${error.message} (${error.code})\n`);
        process.exitCode = 2;
        return;
      }
      progress.stop();
      if (opts.json) return printJson(outcome);
      const { created, existingDevices } = outcome;
      printLines(
        opts.dryRun
          ? `Dry run for tenant ${opts.tenant}: ${outcome.rows} rows are valid; the import would create ${created.devices} device(s) and ${created.credentials} credential(s) (${existingDevices} device(s) already exist). Nothing was written.`
          : `Imported into tenant ${opts.tenant}: ${created.devices} device(s) and ${created.credentials} credential(s) created from ${outcome.rows} rows; ${existingDevices} device(s) already existed and were left as they are.`,
      );
    });
}
