import autocannon from 'autocannon';
import { hashPassword, verifyPassword } from '../src/features/identity/passwords.js';
import { processCpuSeconds } from './process-cpu.js';

/** What the login bench measured: the argon2id ceiling and login throughput under the same concurrency. */
export interface LoginFigures {
  hashesPerSec: number;
  loginsPerSec: number;
  ratio: number;
  logins: number;
  p99Ms: number;
  users: number;
}

const USER_PASSWORD = 'bench-user-password-0123';

/** A distinct client address per request: the rate limits are per address (and account), as behind a real proxy. */
const clientAddress = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

async function call(base: string, method: string, path: string, token: string | null, body?: unknown, from?: string) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}), ...(from ? { 'x-forwarded-for': from } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

/**
 * The argon2id-bound limit: verifications per second of the same hash parameters (passwords.ts) at the bench's
 * concurrency, in this Node process while the server is idle. Login cannot go faster than this on the machine.
 */
export async function measureArgon2(concurrency: number, seconds: number): Promise<number> {
  const stored = await hashPassword(USER_PASSWORD);
  let done = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < deadline) {
      if (!(await verifyPassword(stored, USER_PASSWORD))) throw new Error('argon2 verification failed');
      done += 1;
    }
  }));
  return done / ((Date.now() - started) / 1000);
}

/**
 * Readies `count` plain users for login load (the admin has enrolled TOTP already, see custos.ts). Logins rotate
 * over many accounts and addresses, as a real tenant's morning does, so the per-address rate limits are not what
 * is measured.
 */
export async function provisionLoginUsers(base: string, tenant: string, adminToken: string, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const username = `bench-user-${i}`;
    const created = await call(base, 'POST', '/api/v1/users', adminToken, { username, email: `${username}@bench.example` });
    await call(base, 'POST', '/api/v1/auth/activate', null, { tenant, token: (created.activation as { token: string }).token, password: USER_PASSWORD }, clientAddress(i));
    names.push(username);
  }
  return names;
}

/** Logs the users in round-robin for `seconds` with `connections` clients; every response must be 200. */
export async function measureLogins(base: string, tenant: string, users: string[], connections: number, seconds: number, pid: number) {
  let next = 0;
  const latencies: number[] = [];
  const cpuBefore = processCpuSeconds(pid);
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: `${base}/api/v1/auth/login`,
      connections,
      duration: seconds,
      requests: [{
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const n = next++;
          return { ...request, headers: { ...request.headers, 'x-forwarded-for': clientAddress(n) }, body: JSON.stringify({ tenant, username: users[n % users.length], password: USER_PASSWORD }) };
        },
      }],
    }, (error, finished) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(finished)));
    instance.on('response', (_client, _status, _bytes, responseTime) => void latencies.push(responseTime));
  });
  if (result.non2xx > 0 || result.errors > 0 || result['2xx'] === 0) throw new Error(`login load: not every response was 200: ${JSON.stringify(result.statusCodeStats ?? {})}`);
  const cpuAfter = processCpuSeconds(pid);
  latencies.sort((a, b) => a - b);
  return {
    logins: result['2xx'],
    loginsPerSec: result['2xx'] / result.duration,
    p99Ms: latencies[Math.max(0, Math.ceil(0.99 * latencies.length) - 1)] ?? Number.NaN,
    cpuMsPerLogin: cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / result['2xx'],
  };
}
