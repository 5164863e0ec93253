import { Command } from 'commander';
import type { MaintenanceState } from '../../features/maintenance/maintenance.service.js';
import { maintenanceBody } from '../../features/maintenance/maintenance.schemas.js';
import { invalid } from '../../platform/errors.js';
import { cliActor, withRuntime } from './context.js';
import { printJson, printLines } from './output.js';

const describe = (state: MaintenanceState) => (state.enabled ? `Maintenance is ON since ${state.since}: tenant requests answer 503 MAINTENANCE ("${state.message}", Retry-After ${state.retryAfterSeconds} s).` : 'Maintenance is off: tenants are served.');

/** `custos maintenance on|off|status`: close the tenant plane on every node while the operator works. */
export function maintenanceCommand(): Command {
  const maintenance = new Command('maintenance').description('close or reopen the tenant plane on every node');
  maintenance
    .command('on')
    .option('--message <text>', 'what tenant callers are told')
    .option('--retry-after <seconds>', 'the Retry-After callers are given (default 300)')
    .option('--json', 'print one JSON document')
    .description('answer every tenant request 503 MAINTENANCE with Retry-After; the operator plane keeps working')
    .action(async (opts: { message?: string; retryAfter?: string; json?: boolean }, command: Command) => {
      const parsed = maintenanceBody.safeParse({ enabled: true, message: opts.message, retryAfterSeconds: opts.retryAfter === undefined ? undefined : Number(opts.retryAfter) });
      if (!parsed.success) throw invalid('VALIDATION_FAILED', parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; '));
      await withRuntime(command, async (runtime) => {
        const state = await runtime.services.maintenance.set(cliActor(), parsed.data);
        if (opts.json) printJson({ maintenance: state });
        else printLines(describe(state), 'Turn it off with: custos maintenance off');
      });
    });
  maintenance
    .command('off')
    .option('--json', 'print one JSON document')
    .description('serve tenants again')
    .action(async (opts: { json?: boolean }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const state = await runtime.services.maintenance.set(cliActor(), { enabled: false });
        if (opts.json) printJson({ maintenance: state });
        else printLines(describe(state));
      });
    });
  maintenance
    .command('status')
    .option('--json', 'print one JSON document')
    .description('whether maintenance is on')
    .action(async (opts: { json?: boolean }, command: Command) => {
      await withRuntime(command, async (runtime) => {
        const state = runtime.services.maintenance.current();
        if (opts.json) printJson({ maintenance: state });
        else printLines(describe(state));
      });
    });
  return maintenance;
}
