import { createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { invalid } from '../../platform/errors.js';
import { exportQuery } from '../../features/audit/audit.schemas.js';
import { ExportUnreadable, fileLines, verifyExport } from '../../features/audit/offline-verify.js';
import { cliActor, withRuntime } from './context.js';
import { printJson, printLines } from './output.js';
import { startProgress } from './progress.js';

/** `custos audit verify --file`: no database, no server; exit 0 intact, 1 tampered, 2 unreadable. */
async function verifyFile(file: string, opts: { publicKey?: string; json?: boolean }): Promise<void> {
  let publicKeyPem: string | undefined;
  if (opts.publicKey) {
    try {
      publicKeyPem = readFileSync(opts.publicKey, 'utf8');
    } catch (error) {
      throw invalid('FILE_UNREADABLE', `Cannot read the public key ${opts.publicKey}: ${(error as Error).message}`);
    }
  }
  let report;
  try {
    report = await verifyExport(fileLines(file), { publicKeyPem });
  } catch (error) {
    if (error instanceof ExportUnreadable) throw invalid('EXPORT_UNREADABLE', `${file}: ${error.message}.`);
    if ((error as NodeJS.ErrnoException).code) throw invalid('FILE_UNREADABLE', `Cannot read ${file}: ${(error as Error).message}`);
    throw error;
  }
  if (opts.json) printJson({ file, ...report });
  else {
    for (const warning of report.warnings) process.stderr.write(`warning: ${warning}.\n`);
    const range = report.firstSeq === null ? 'no events' : `${report.events} events #${report.firstSeq}-#${report.lastSeq}`;
    const signed = `${report.checkpoints.valid}/${report.checkpoints.total} checkpoints valid (${report.keySource} key)`;
    if (report.ok) printLines(`The export ${file} is intact: ${range}, ${signed}.`);
    else printLines(`TAMPERED: ${file} (${range}, ${signed}):`, ...report.problems.map((p) => `  ${p.message}`));
  }
  process.exitCode = report.ok ? 0 : 1;
}

/** `custos audit verify` and `custos audit export`: the tamper-evident audit log from the command line. */
export function auditCommand(): Command {
  const audit = new Command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .option('--tenant <slug>', "verify this tenant's chain")
    .option('--system', "verify the operator plane's chain")
    .option('--file <export.jsonl>', 'verify an exported JSON lines file offline (no database, no server)')
    .option('--public-key <file>', "with --file: the tenant's checkpoint public key (PEM, from GET /api/v1/audit/checkpoints/public-key)")
    .option('--json', 'print one JSON document')
    .description('recompute the audit chain (or an exported file) and name the first event that was tampered with')
    .action(async (opts: { tenant?: string; system?: boolean; file?: string; publicKey?: string; json?: boolean }, command: Command) => {
      if (opts.file) return verifyFile(opts.file, opts);
      if (!opts.tenant && !opts.system) throw invalid('VALIDATION_FAILED', 'Say which chain: --tenant SLUG, --system for the operator plane, or --file EXPORT.jsonl for an exported file.');
      const { label, result } = await withRuntime(command, async (rt) => {
        const scope = opts.tenant ? (await rt.services.tenants.get(opts.tenant)).id : SYSTEM_SCOPE;
        return { label: opts.tenant ? `tenant ${opts.tenant}` : 'the operator plane', result: await rt.audit.verify(rt.database.db, scope) };
      });
      if (opts.json) printJson({ chain: label, ...result });
      else if (result.ok) printLines(`The audit chain of ${label} is intact: ${result.checked} events, head #${result.headSeq}.`);
      else printLines(`TAMPERED: the audit chain of ${label} is broken at event #${result.problem!.seq}: ${result.problem!.message}.`, `${result.checked} events before it verified.`);
      process.exitCode = result.ok ? 0 : 1;
    });
  audit
    .command('export')
    .requiredOption('--tenant <slug>', "export this tenant's events")
    .option('--format <format>', 'jsonl (verifiable offline) or csv', 'jsonl')
    .option('--out <file>', 'write here instead of stdout')
    .option('--from <time>').option('--to <time>').option('--from-seq <n>').option('--to-seq <n>')
    .option('--action <action>', 'exact, or a prefix such as credential.*').option('--category <category>').option('--actor-id <id>')
    .option('--target-type <type>').option('--target-id <id>').option('--outcome <outcome>').option('--source-ip <ip>')
    .option('--min-severity <n>').option('--severity <n>').option('--q <text>', 'free text over action, actor, target and details')
    .description("stream a tenant's audit events oldest first (recorded as audit.exported)")
    .action(async (opts: Record<string, string | undefined>, command: Command) => {
      const { tenant, out, ...filters } = opts;
      const parsed = exportQuery.safeParse(Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== undefined)));
      if (!parsed.success) throw invalid('VALIDATION_FAILED', `Bad filter: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'filter'}: ${i.message}`).join('; ')}`);
      let bar: ReturnType<typeof startProgress> | null = null;
      await withRuntime(command, async (rt) => {
        const actor = { ...cliActor(), tenantId: (await rt.services.tenants.get(tenant!)).id };
        const file = rt.services.auditExport.exportEvents(actor, parsed.data, {
          onProgress: (done, total) => {
            bar ??= startProgress('exporting events', total);
            bar.update(done);
          },
        });
        await pipeline(file.stream, out ? createWriteStream(out) : process.stdout);
      });
      (bar as ReturnType<typeof startProgress> | null)?.stop();
      if (out) process.stderr.write(`Wrote ${out} (${parsed.data.format}).\n`);
    });
  return audit;
}
