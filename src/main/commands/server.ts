import { Command } from 'commander';
import { serveUntilSignalled } from '../server.js';
import { configOf } from './context.js';

/** `custos server`: run the vault (initialising an empty data directory on first start). */
export function serverCommand(): Command {
  return new Command('server')
    .description('run the vault; on an empty data directory it creates the root key, database and schema')
    .action(async (_opts: unknown, command: Command) => {
      await serveUntilSignalled(configOf(command));
    });
}
