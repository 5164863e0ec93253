import { Command } from 'commander';
import { SYSTEM_SCOPE } from '../../platform/actor.js';
import { invalid } from '../../platform/errors.js';
import { withRuntime } from './context.js';
import { printJson, printLines } from './output.js';

/** `custos audit verify`: exit 0 when a chain is intact, 1 when any stored event was edited, removed or reordered. */
export function auditCommand(): Command {
  const audit = new Command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .option('--tenant <slug>', "verify this tenant's chain")
    .option('--system', "verify the operator plane's chain")
    .option('--json', 'print one JSON document')
    .description('recompute the audit chain and name the first event that was tampered with')
    .action(async (opts: { tenant?: string; system?: boolean; json?: boolean }, command: Command) => {
      if (!opts.tenant && !opts.system) throw invalid('VALIDATION_FAILED', 'Say which chain: --tenant SLUG, or --system for the operator plane.');
      const { label, result } = await withRuntime(command, async (rt) => {
        const scope = opts.tenant ? (await rt.services.tenants.get(opts.tenant)).id : SYSTEM_SCOPE;
        return { label: opts.tenant ? `tenant ${opts.tenant}` : 'the operator plane', result: await rt.audit.verify(rt.database.db, scope) };
      });
      if (opts.json) printJson({ chain: label, ...result });
      else if (result.ok) printLines(`The audit chain of ${label} is intact: ${result.checked} events, head #${result.headSeq}.`);
      else printLines(`TAMPERED: the audit chain of ${label} is broken at event #${result.problem!.seq}: ${result.problem!.message}.`, `${result.checked} events before it verified.`);
      process.exitCode = result.ok ? 0 : 1;
    });
  return audit;
}
