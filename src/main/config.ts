import path from 'node:path';
import { Cron } from 'croner';
import { z } from 'zod';
import { FatalConfigError } from '../platform/errors.js';
import { parseCidr } from '../platform/net/target-guard.js';

/** Everything the server and every CLI command read from their surroundings, resolved once. */
export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  port: number;
  host: string;
  sshPort: number;
  publicUrl: string;
  rootKeyFile: string;
  rootKeyBase64: string | undefined;
  targetAllowCidrs: string[];
  /** Ranges the operator reserves: never dialled directly (CUSTOS_TARGET_DENY_CIDRS, comma-separated). */
  targetDenyCidrs: string[];
  /** Rotations that may run on one device at once (CUSTOS_ROTATION_DEVICE_CONCURRENCY, default 1). */
  rotationDeviceConcurrency: number;
  /** Crash tests only: the rotation step after which the process kills itself (CUSTOS_ROTATION_CRASH_AT). */
  rotationCrashAt: string | undefined;
  trustedProxies: string[];
  logLevel: string;
  /** `custos connector run`: the connector token, when not given with --token (CUSTOS_CONNECTOR_TOKEN). */
  connectorToken: string | undefined;
  /** Where snapshots are written (CUSTOS_SNAPSHOT_DIR, default <data dir>/snapshots). */
  snapshotDir: string;
  /** How many scheduled system snapshots are kept (CUSTOS_SNAPSHOT_KEEP, default 5). */
  snapshotKeep: number;
  /** When the scheduled snapshot runs, a UTC cron expression (CUSTOS_SNAPSHOT_SCHEDULE, default "0 3 * * *"). */
  snapshotSchedule: string;
}

/** Flags given on the command line; they win over the environment. */
export interface ConfigFlags {
  dataDir?: string;
  databaseUrl?: string;
  port?: string | number;
  host?: string;
}

const portSchema = z.coerce.number().int().min(0).max(65535);

function parsePort(name: string, value: string | number | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = portSchema.safeParse(value);
  if (!parsed.success) throw new FatalConfigError('CONFIG_INVALID', `${name} must be a port number (0-65535), got "${value}".`);
  return parsed.data;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

/** A comma-separated list of CIDR ranges; a malformed entry stops start-up naming the variable. */
function cidrList(name: string, value: string | undefined): string[] {
  const entries = list(value);
  for (const entry of entries) {
    try {
      parseCidr(entry);
    } catch (error) {
      throw new FatalConfigError('CONFIG_INVALID', `${name}: ${(error as Error).message}.`);
    }
  }
  return entries;
}

/** A cron expression (UTC, croner syntax); a malformed one stops start-up naming the variable. */
function cronOf(name: string, value: string | undefined, fallback: string): string {
  if (!value) return fallback;
  try {
    new Cron(value, { timezone: 'UTC', paused: true }).stop();
  } catch (error) {
    throw new FatalConfigError('CONFIG_INVALID', `${name} must be a cron expression such as "0 3 * * *" (daily at 03:00 UTC): ${(error as Error).message}.`);
  }
  return value;
}

/** The only reader of process.env: flags first, then CUSTOS_* variables, then the documented defaults. */
export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(flags.dataDir ?? env.CUSTOS_DATA_DIR ?? './.custos');
  const port = parsePort('CUSTOS_PORT', flags.port ?? env.CUSTOS_PORT, 8220);
  const host = flags.host ?? env.CUSTOS_HOST ?? '127.0.0.1';
  const databaseUrl = flags.databaseUrl ?? (env.CUSTOS_DATABASE_URL || undefined);
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new FatalConfigError('CONFIG_INVALID', 'CUSTOS_DATABASE_URL must be a postgres:// URL; leave it unset for the embedded SQLite store.');
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    dataDir,
    databaseUrl,
    port,
    host,
    sshPort: parsePort('CUSTOS_SSH_PORT', env.CUSTOS_SSH_PORT, 2222),
    publicUrl: (env.CUSTOS_PUBLIC_URL ?? `http://${urlHost}:${port}`).replace(/\/+$/, ''),
    rootKeyFile: path.resolve(env.CUSTOS_ROOT_KEY_FILE ?? path.join(dataDir, 'root.key')),
    rootKeyBase64: env.CUSTOS_ROOT_KEY || undefined,
    targetAllowCidrs: cidrList('CUSTOS_TARGET_ALLOW_CIDRS', env.CUSTOS_TARGET_ALLOW_CIDRS),
    targetDenyCidrs: cidrList('CUSTOS_TARGET_DENY_CIDRS', env.CUSTOS_TARGET_DENY_CIDRS),
    rotationDeviceConcurrency: Math.max(1, parsePort('CUSTOS_ROTATION_DEVICE_CONCURRENCY', env.CUSTOS_ROTATION_DEVICE_CONCURRENCY, 1)),
    rotationCrashAt: env.CUSTOS_ROTATION_CRASH_AT || undefined,
    trustedProxies: list(env.CUSTOS_TRUSTED_PROXIES),
    logLevel: env.CUSTOS_LOG_LEVEL ?? 'info',
    connectorToken: env.CUSTOS_CONNECTOR_TOKEN || undefined,
    snapshotDir: path.resolve(env.CUSTOS_SNAPSHOT_DIR ?? path.join(dataDir, 'snapshots')),
    snapshotKeep: Math.max(1, parsePort('CUSTOS_SNAPSHOT_KEEP', env.CUSTOS_SNAPSHOT_KEEP, 5)),
    snapshotSchedule: cronOf('CUSTOS_SNAPSHOT_SCHEDULE', env.CUSTOS_SNAPSHOT_SCHEDULE, '0 3 * * *'),
  };
}
