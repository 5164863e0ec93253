import { maintenanceCommand } from './commands/maintenance.js';
import { snapshotCommand } from './commands/snapshot.js';
import { Command, CommanderError } from 'commander';
import { DomainError, FatalConfigError } from '../platform/errors.js';
import { auditCommand } from './commands/audit.js';
import { connectorCommand } from './commands/connector.js';
import { importCommand } from './commands/import.js';
import { migrateCommand } from './commands/migrate.js';
import { operatorCommand } from './commands/operator.js';
import { rootKeyCommand } from './commands/root-key.js';
import { serverCommand } from './commands/server.js';
import { tenantCommand } from './commands/tenant.js';
import { version } from './version.js';

/** The `custos` command line: every command reads the same configuration as the server. */
export function createProgram(): Command {
  const program = new Command('custos')
    .description('Custos: a multi-tenant privileged access management vault')
    .version(version)
    .option('--data-dir <dir>', 'data directory (env CUSTOS_DATA_DIR, default ./.custos)')
    .option('--database-url <url>', 'PostgreSQL URL (env CUSTOS_DATABASE_URL; unset: SQLite in the data directory)')
    .option('--port <port>', 'HTTP port (env CUSTOS_PORT, default 8220)')
    .option('--host <host>', 'HTTP address (env CUSTOS_HOST, default 127.0.0.1)')
    .showHelpAfterError()
    .exitOverride();
  for (const command of [serverCommand(), migrateCommand(), tenantCommand(), operatorCommand(), auditCommand(), importCommand(), rootKeyCommand(), connectorCommand(), snapshotCommand(), maintenanceCommand()]) {
    program.addCommand(command);
  }
  // addCommand does not pass settings down: every subcommand must throw, not exit 1 (1 means "tampered").
  const settle = (command: Command) => {
    command.exitOverride().showHelpAfterError();
    command.commands.forEach(settle);
  };
  settle(program);
  return program;
}

/** A one-line explanation of a common operating-system failure, or undefined for anything unexpected. */
function systemErrorHint(error: NodeJS.ErrnoException & { address?: string; port?: number }): string | undefined {
  const where = error.address ? `${error.address}${error.port ? `:${error.port}` : ''}` : '';
  switch (error.code) {
    case 'EADDRINUSE':
      return `the address ${where} is already in use; stop the other process or choose another --port.`;
    case 'EADDRNOTAVAIL':
      return `the address ${where} is not available on this machine; check --host.`;
    case 'ECONNREFUSED':
      return `the database at ${where} refused the connection; check CUSTOS_DATABASE_URL and that PostgreSQL is running.`;
    case 'ENOTFOUND':
      return `the host in CUSTOS_DATABASE_URL could not be resolved (${error.message}).`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ${error.message}`;
    default:
      return undefined;
  }
}

/** Runs the CLI; expected failures print one line saying what to do and exit 2, never a stack trace. */
export async function main(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (error instanceof DomainError || error instanceof FatalConfigError) {
      process.stderr.write(`error: ${error.message} (${error.code})\n`);
      process.exitCode = 2;
      return;
    }
    const hint = systemErrorHint(error as NodeJS.ErrnoException);
    process.stderr.write(hint ? `error: ${hint}\n` : `error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 2;
  }
}

await main(process.argv);
