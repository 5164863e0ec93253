import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { startConnectorAgent } from '../../features/connector/connector-agent.js';
import { DomainError } from '../../platform/errors.js';
import { configOf } from './context.js';

/** `custos connector run`: the network connector, run inside a customer network; it dials out to the vault. */
export function connectorCommand(): Command {
  const connector = new Command('connector').description('the network connector: carries the vault\'s connections to targets in this network');
  connector
    .command('run')
    .description('dial out to the vault and carry its TCP connections until stopped (SIGTERM/SIGINT)')
    .requiredOption('--url <url>', 'the vault\'s address, such as https://vault.example.com')
    .option('--token <token>', 'the connector token from POST /api/v1/connectors (env CUSTOS_CONNECTOR_TOKEN keeps it out of the process list)')
    .option('--allow <cidrs>', 'only connect to these ranges, comma-separated (such as 10.20.0.0/16,192.168.1.10); default: anything this network reaches')
    .option('--ca <file>', 'a PEM file of the CA to trust for the vault\'s certificate (default: the system CAs)')
    .action(async (opts: { url: string; token?: string; ca?: string; allow?: string }, command: Command) => {
      const token = opts.token ?? configOf(command).connectorToken;
      if (!token) throw new DomainError('CONNECTOR_TOKEN_MISSING', 'Give the connector token with --token or CUSTOS_CONNECTOR_TOKEN.', 'invalid');
      let ca: string | undefined;
      if (opts.ca) {
        try {
          ca = readFileSync(opts.ca, 'utf8');
        } catch (error) {
          throw new DomainError('CONNECTOR_CA_UNREADABLE', `--ca ${opts.ca} cannot be read: ${(error as Error).message}`, 'invalid');
        }
      }
      const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      const allow = opts.allow?.split(',').map((item) => item.trim()).filter(Boolean);
      const agent = startConnectorAgent({ url: opts.url, token, ca, log, allow });
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => agent.stop());
      const result = await agent.done;
      log(`stopped: ${result.reason}`);
      if (result.refused) throw new DomainError('CONNECTOR_REFUSED', result.reason, 'unauthenticated');
    });
  return connector;
}
