import os from 'node:os';
import type { Command } from 'commander';
import type { Actor } from '../../platform/actor.js';
import { createLogger } from '../../platform/log.js';
import { loadConfig, type Config } from '../config.js';
import { openRuntime, type Runtime } from '../runtime.js';
import { pino } from 'pino';

/** The configuration for a command: its global flags over the environment. */
export function configOf(command: Command): Config {
  const opts = command.optsWithGlobals<{ dataDir?: string; databaseUrl?: string; port?: string; host?: string }>();
  return loadConfig({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, port: opts.port, host: opts.host });
}

/** The operator running the CLI, as audit events name them. */
export function cliActor(): Actor {
  return { kind: 'operator', id: `cli:${os.userInfo().username}`, ip: null };
}

/** Runs a command against the store with the server's configuration; logs go to stderr, quietly. */
export async function withRuntime<T>(command: Command, work: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = configOf(command);
  const log = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, destination: pino.destination(2) });
  const runtime = await openRuntime(config, { migrate: false, initialise: false, log });
  try {
    return await work(runtime);
  } finally {
    await runtime.close();
  }
}
