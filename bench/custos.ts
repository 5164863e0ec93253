import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Secret, TOTP } from 'otpauth';
import type { Cleanup } from './cleanup.js';
import { startServerChild, type ServerChild } from './child-process.js';

const run = promisify(execFile);

/** A Custos server with one activated tenant admin, logged in, TOTP enrolled (an unrestricted session). */
export interface CustosUnderTest {
  server: ServerChild;
  dataDir: string;
  token: string;
  tenant: string;
  database: 'sqlite' | 'postgres';
}

/** Options for the server child. */
export interface CustosOptions {
  repoRoot: string;
  logLevel: string;
  /** Node flags for the server process only (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** A postgres:// URL: the server and the CLI use it instead of the embedded SQLite store. */
  databaseUrl?: string;
  /** More environment for the server and the CLI, such as CUSTOS_TARGET_ALLOW_CIDRS. */
  env?: Record<string, string>;
}

const TENANT = 'bench';
const ADMIN_EMAIL = 'Bench.Admin@example.com';
const PASSWORD = 'bench-password-0123456789';

// The bench must measure the embedded default whatever the caller's shell exports (e.g. a PostgreSQL URL).
function cleanEnv(logLevel: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('CUSTOS_')));
  // Login load arrives from many addresses through a local proxy, as a real tenant's users do (see login.ts).
  return { ...env, CUSTOS_LOG_LEVEL: logLevel, CUSTOS_TRUSTED_PROXIES: '127.0.0.1/32' };
}

export async function requestJson(url: string, body: unknown, token?: string, method: 'GET' | 'POST' | 'PUT' = body === undefined ? 'GET' : 'POST'): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

async function waitReady(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/v1/ready`);
      last = `${response.status} ${await response.text()}`;
      if (response.ok) return;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/v1/ready never answered 200; last: ${last}`);
}

/**
 * Starts `bin/custos server` on SQLite in a fresh temp dir (or on `databaseUrl`) and a random port, then provisions
 * and logs in a tenant admin and enrols its TOTP (the default policy asks administrators for a second factor first).
 */
export async function startCustos(options: CustosOptions, cleanup: Cleanup): Promise<CustosUnderTest> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-bench-'));
  const removeDir = () => rmSync(dataDir, { recursive: true, force: true });
  // Registered before the server so it runs after the server has stopped (cleanup is newest-first).
  cleanup.defer({ run: removeDir, onExit: removeDir });

  const bin = path.join(options.repoRoot, 'bin', 'custos');
  const env = { ...cleanEnv(options.logLevel), ...options.env };
  const store = options.databaseUrl ? ['--database-url', options.databaseUrl] : [];
  const server = await startServerChild({
    name: 'custos server',
    args: [...(options.nodeFlags ?? []), bin, '--data-dir', dataDir, ...store, 'server', '--port', '0', '--host', '127.0.0.1'],
    env,
    cwd: options.repoRoot,
    ready: /is listening on (http:\/\/\S+)/,
    timeoutMs: 30_000,
  }, cleanup);
  await waitReady(server.url);

  const created = await run(process.execPath, [bin, '--data-dir', dataDir, ...store, 'tenant', 'create', TENANT, '--admin-email', ADMIN_EMAIL, '--json'], { cwd: options.repoRoot, env });
  const { activation } = JSON.parse(created.stdout) as { activation: { token: string } };
  await requestJson(`${server.url}/api/v1/auth/activate`, { tenant: TENANT, token: activation.token, password: PASSWORD });
  // Login is rate-limited per address and account: exactly once.
  const { token } = await requestJson(`${server.url}/api/v1/auth/login`, { tenant: TENANT, username: ADMIN_EMAIL.toLowerCase(), password: PASSWORD }) as { token: string };
  const me = await requestJson(`${server.url}/api/v1/auth/me`, undefined, token) as { user?: { email?: string } };
  if (me.user?.email !== ADMIN_EMAIL) throw new Error(`GET /api/v1/auth/me answered an unexpected body: ${JSON.stringify(me)}`);
  const enrolment = await requestJson(`${server.url}/api/v1/auth/mfa/totp/enroll`, {}, token) as { secret: string };
  const code = new TOTP({ secret: Secret.fromBase32(enrolment.secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
  await requestJson(`${server.url}/api/v1/auth/mfa/totp/confirm`, { code }, token);
  return { server, dataDir, token, tenant: TENANT, database: options.databaseUrl ? 'postgres' : 'sqlite' };
}
