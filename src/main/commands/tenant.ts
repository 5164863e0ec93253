import { Command } from 'commander';
import { invalid } from '../../platform/errors.js';
import { createTenantBody } from '../../features/tenants/tenants.schemas.js';
import { cliActor, withRuntime } from './context.js';
import { printJson, printLines, printTable } from './output.js';

/** `custos tenant create|list|suspend|resume|delete`: the operator's tenant lifecycle. */
export function tenantCommand(): Command {
  const tenant = new Command('tenant').description('provision and manage tenants');

  tenant
    .command('create')
    .argument('<slug>', 'tenant slug: 3-32 of a-z, 0-9, "-"')
    .requiredOption('--admin-email <email>', "the tenant admin's email (their login name)")
    .option('--name <name>', 'display name')
    .option('--json', 'print one JSON document')
    .description('create a tenant, its data key and its admin (pending activation)')
    .action(async (slug: string, opts: { adminEmail: string; name?: string; json?: boolean }, command: Command) => {
      const parsed = createTenantBody.safeParse({ slug, adminEmail: opts.adminEmail, name: opts.name });
      if (!parsed.success) throw invalid('VALIDATION_FAILED', parsed.error.issues.map((i) => i.message).join('; '));
      const result = await withRuntime(command, (rt) => rt.services.tenants.create(cliActor(), parsed.data));
      if (opts.json) return printJson(result);
      printLines(
        `Created tenant ${result.tenant.slug} (${result.tenant.id}).`,
        `Admin ${parsed.data.adminEmail} is pending activation. One-time activation token (expires ${result.activation.expiresAt}):`,
        `  ${result.activation.token}`,
        `Activation link: ${result.activation.url}`,
        `Or activate with: curl -s -X POST ${result.activation.url.split('/activate')[0]}/api/v1/auth/activate -H 'content-type: application/json' \\`,
        `  -d '{"tenant":"${result.tenant.slug}","token":"${result.activation.token}","password":"<at least 12 characters>"}'`,
      );
    });

  tenant
    .command('list')
    .option('--json', 'print one JSON document')
    .description('list tenants')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const tenants = await withRuntime(command, (rt) => rt.services.tenants.list());
      if (opts.json) return printJson({ tenants });
      if (tenants.length === 0) return printLines('No tenants yet. Create one with: custos tenant create SLUG --admin-email EMAIL');
      printTable(['SLUG', 'STATUS', 'ID', 'CREATED'], tenants.map((t) => [t.slug, t.status, t.id, t.createdAt]));
    });

  for (const [name, verb, done] of [
    ['suspend', 'suspend a tenant: every login and token is refused', 'Suspended'],
    ['resume', 'resume a suspended tenant', 'Resumed'],
  ] as const) {
    tenant
      .command(name)
      .argument('<slug>')
      .option('--json', 'print one JSON document')
      .description(verb)
      .action(async (slug: string, opts: { json?: boolean }, command: Command) => {
        const result = await withRuntime(command, (rt) => rt.services.tenants[name](cliActor(), slug));
        if (opts.json) return printJson({ tenant: result });
        printLines(`${done} tenant ${result.slug}.`);
      });
  }

  tenant
    .command('activation')
    .argument('<slug>')
    .option('--json', 'print one JSON document')
    .description("issue a new activation token for the tenant's admin (only while they have not activated)")
    .action(async (slug: string, opts: { json?: boolean }, command: Command) => {
      const result = await withRuntime(command, (rt) => rt.services.tenants.reissueAdminActivation(cliActor(), slug));
      if (opts.json) return printJson(result);
      printLines(`New one-time activation token for tenant ${slug}'s admin (expires ${result.activation.expiresAt}); older ones no longer work:`, `  ${result.activation.token}`);
    });

  tenant
    .command('delete')
    .argument('<slug>')
    .option('--yes', 'confirm: the tenant keys are destroyed and its data cannot be recovered')
    .option('--json', 'print one JSON document')
    .description("delete a tenant: destroy its keys (crypto-shredding) and all of its data")
    .action(async (slug: string, opts: { yes?: boolean; json?: boolean }, command: Command) => {
      if (!opts.yes) throw invalid('CONFIRMATION_REQUIRED', `Deleting tenant ${slug} destroys its keys and data for good. Repeat with --yes to confirm.`);
      const result = await withRuntime(command, (rt) => rt.services.tenants.remove(cliActor(), slug));
      if (opts.json) return printJson({ tenant: result });
      printLines(`Deleted tenant ${result.slug}: its keys were destroyed and its data removed.`);
    });

  return tenant;
}
