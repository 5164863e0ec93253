// Issue 6's connectivity budget: 1,000 scheduled checks a minute on one node without delaying API requests (the
// API's p99 with checks on stays within 20% of its p99 with checks off, measured in the same run).
import net from 'node:net';
import type { Cleanup } from './cleanup.js';
import { requestJson, startCustos } from './custos.js';
import { assertAllOk, fire, summarise, type Slice, type Target } from './load.js';
import { startBenchPostgres } from './postgres.js';
import type { Verdict } from './report.js';

/** The budget: checks a minute, and how much the API's p99 may grow while they run. */
export const connectivityBudgets = { minChecksPerMinute: 1_000, maxP99Growth: 1.2 };

/** A stand-in SSH target on loopback: answers every connection with an SSH identification line and counts them. */
async function startBannerTarget(cleanup: Cleanup) {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    socket.end('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  cleanup.defer({ run: close, onExit: () => server.close() });
  return { port: (server.address() as net.AddressInfo).port, count: () => connections };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One database: a Custos server (leader of its own single node) with `devices` SSH devices on a loopback banner
 * target checked every minute; steady API traffic (a device list page at a fixed rate) is measured with checks off,
 * on and off again. The checks per minute are counted by the target itself.
 */
export async function benchConnectivity(options: { database: 'sqlite' | 'postgres'; repoRoot: string; cleanup: Cleanup; progress: (line: string) => void; devices?: number; rate?: number; offSeconds?: number; onSeconds?: number }) {
  const { database, cleanup, progress } = options;
  const devices = options.devices ?? 1_100;
  const rate = options.rate ?? 200;
  const offSeconds = options.offSeconds ?? 30;
  const onSeconds = options.onSeconds ?? 60;
  const postgres = database === 'postgres' ? await startBenchPostgres(cleanup) : undefined;
  const target = await startBannerTarget(cleanup);
  const custos = await startCustos({ repoRoot: options.repoRoot, logLevel: 'warn', databaseUrl: postgres?.url, env: { CUSTOS_TARGET_ALLOW_CIDRS: '127.0.0.0/8' } }, cleanup);
  const base = custos.server.url;
  const settings = `${base}/api/v1/settings/connectivity`;
  await requestJson(settings, { enabled: false }, custos.token, 'PUT');
  progress(`[${database}] creating ${devices} ssh devices on the loopback target`);
  let created = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (created < devices) {
      const n = created++;
      await requestJson(`${base}/api/v1/devices`, { name: `ssh-${String(n).padStart(5, '0')}`, address: '127.0.0.1', port: target.port, protocol: 'ssh' }, custos.token);
    }
  }));

  const api: Target = { name: 'GET /api/v1/devices?limit=50', url: `${base}/api/v1/devices?limit=50`, headers: { authorization: `Bearer ${custos.token}` }, rate, pid: custos.server.pid };
  const measure = async (phase: string, seconds: number): Promise<Slice> => {
    progress(`[${database}] ${phase}: ${api.name} at ${rate} req/s for ${seconds} s`);
    const slice = await fire(api, 4, seconds);
    assertAllOk(api, phase, slice.result);
    return slice;
  };
  // After seeding, the database settles (PostgreSQL's autovacuum, SQLite's checkpoints) before the first figure.
  await measure('warm-up', 10);
  const off = [await measure('checks off', offSeconds)];
  await requestJson(settings, { enabled: true, intervalMinutes: 1 }, custos.token, 'PUT');
  // The leader looks for due devices every 20 s: the measured minute starts with the first check.
  const waitedFrom = Date.now();
  while (target.count() === 0 && Date.now() - waitedFrom < 30_000) await sleep(50);
  if (target.count() === 0) throw new Error('no connectivity check reached the target within 30 s of enabling checks');
  const before = target.count();
  const on = [await measure('checks on', onSeconds)];
  const checks = target.count() - before;
  await requestJson(settings, { enabled: false }, custos.token, 'PUT');
  await sleep(2_000);
  off.push(await measure('checks off again', offSeconds));

  const offFigures = summarise(`${api.name}, checks off`, off);
  const onFigures = summarise(`${api.name}, checks on`, on);
  const perMinute = Math.round((checks * 60) / onSeconds);
  const growth = onFigures.p99Ms / offFigures.p99Ms;
  const cpu = (m: typeof onFigures) => (m.cpuUsPerRequest === undefined ? 'n/a' : `${m.cpuUsPerRequest.toFixed(0)} us`);
  const verdicts: Verdict[] = [
    { name: `${database} connectivity checks/min on one node (>= ${connectivityBudgets.minChecksPerMinute})`, actual: perMinute, limit: connectivityBudgets.minChecksPerMinute, pass: perMinute >= connectivityBudgets.minChecksPerMinute },
    { name: `${database} API p99 with checks on / off (<= ${connectivityBudgets.maxP99Growth})`, actual: +growth.toFixed(3), limit: connectivityBudgets.maxP99Growth, pass: growth <= connectivityBudgets.maxP99Growth },
  ];
  const lines = [
    `connectivity on ${database}: ${devices} ssh devices every minute, ${checks} checks in the ${onSeconds} s measured (${perMinute}/min, counted by the target)`,
    `  ${api.name} at ${rate} req/s: checks off p50 ${offFigures.p50Ms.toFixed(2)} ms, p99 ${offFigures.p99Ms.toFixed(2)} ms (${offFigures.requests} requests, server CPU ${cpu(offFigures)}/req); checks on p50 ${onFigures.p50Ms.toFixed(2)} ms, p99 ${onFigures.p99Ms.toFixed(2)} ms (${onFigures.requests} requests, ${cpu(onFigures)}/req, checks included); p99 on/off ${growth.toFixed(3)}`,
  ];
  const figures = {
    [`connectivity_checks_per_min_${database}`]: perMinute,
    [`connectivity_api_p99_off_ms_${database}`]: +offFigures.p99Ms.toFixed(2),
    [`connectivity_api_p99_on_ms_${database}`]: +onFigures.p99Ms.toFixed(2),
    [`connectivity_api_p99_growth_${database}`]: +growth.toFixed(3),
  };
  return { lines, figures, verdicts };
}
