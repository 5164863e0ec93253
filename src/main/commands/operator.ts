import { Command } from 'commander';
import { cliActor, withRuntime } from './context.js';
import { printJson, printLines, printTable } from './output.js';

/** `custos operator token create|list|revoke`: bearer tokens for /ops/v1. */
export function operatorCommand(): Command {
  const operator = new Command('operator').description('operator-plane credentials');
  const token = operator.command('token').description('operator bearer tokens for /ops/v1');

  token
    .command('create')
    .option('--name <name>', 'what the token is for', 'operator')
    .option('--json', 'print one JSON document')
    .description('create an operator token; it is shown once and stored only hashed')
    .action(async (opts: { name: string; json?: boolean }, command: Command) => {
      const created = await withRuntime(command, (rt) => rt.services.operators.createToken(cliActor(), opts.name));
      if (opts.json) return printJson({ token: created.token, id: created.id, name: created.name });
      printLines(`Operator token ${created.id} (${created.name}); it is shown only now:`, `  ${created.token}`, 'Use it as: Authorization: Bearer <token> on /ops/v1 routes.');
    });

  token
    .command('list')
    .option('--json', 'print one JSON document')
    .description('list operator tokens (never the tokens themselves)')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const rows = await withRuntime(command, (rt) => rt.services.operators.list());
      const view = rows.map((r) => ({ id: r.id, name: r.name, createdAt: new Date(r.created_at).toISOString(), lastUsedAt: r.last_used_at ? new Date(r.last_used_at).toISOString() : null, revoked: r.revoked_at !== null }));
      if (opts.json) return printJson({ tokens: view });
      printTable(['ID', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'], view.map((t) => [t.id, t.name, t.createdAt, t.lastUsedAt ?? '-', t.revoked ? 'yes' : 'no']));
    });

  token
    .command('revoke')
    .argument('<id>')
    .description('revoke an operator token')
    .action(async (id: string, _opts: unknown, command: Command) => {
      await withRuntime(command, (rt) => rt.services.operators.revoke(cliActor(), id));
      printLines(`Revoked operator token ${id}.`);
    });
  return operator;
}
