// `npm run bench [-- --strict --duration S --warmup S --rounds N --connections N --profile DIR]`: Custos against a bare Fastify baseline.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCleanup } from './cleanup.js';
import { startServerChild } from './child-process.js';
import { startCustos } from './custos.js';
import { measureInterleaved, type LoadPlan } from './load.js';
import { measureArgon2, measureLogins, provisionLoginUsers } from './login.js';
import { formatReport, judge, summaryLine } from './report.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const LOG_LEVEL = 'warn';

/** Reads the command line; a bad flag is an error like any other (exit 2), not a stack trace from the top level. */
function readFlags() {
  const { values } = parseArgs({
    options: {
      strict: { type: 'boolean', default: false },
      duration: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      profile: { type: 'string' },
    },
  });
  const number = (name: keyof typeof values, min: number): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, got "${String(values[name])}"`);
    return value;
  };
  const plan: LoadPlan = { connections: number('connections', 1), warmupSeconds: number('warmup', 0), durationSeconds: number('duration', 1), rounds: number('rounds', 1) };
  return { plan, strict: values.strict, profileDir: values.profile ? path.resolve(values.profile) : undefined };
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main({ plan, profileDir }: ReturnType<typeof readFlags>): Promise<boolean> {
  const cleanup = createCleanup();
  try {
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    const baselineServer = await startServerChild({
      name: 'baseline server',
      args: ['--import', 'tsx', path.join(repoRoot, 'bench', 'baseline-server.ts')],
      cwd: repoRoot,
      ready: /listening on (http:\/\/\S+)/,
    }, cleanup);
    const custos = await startCustos({ repoRoot, logLevel: LOG_LEVEL, nodeFlags: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [] }, cleanup);

    say(`Custos bench: ${plan.connections} connections, ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured per route in ${plan.rounds} alternating rounds; node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`);
    say(`  baseline: bare Fastify 5 GET / in its own process at ${baselineServer.url}`);
    say(`  custos:   bin/custos server, embedded SQLite in ${custos.dataDir}, at ${custos.server.url}, CUSTOS_LOG_LEVEL=${LOG_LEVEL} (request logs off)`);
    say('');

    // /v1/health runs Custos' HTTP stack (helmet, request ids, zod, metrics) without token or database: it splits the cost of `me`.
    const [baseline, me, health] = await measureInterleaved([
      { name: 'baseline GET /', url: `${baselineServer.url}/`, pid: baselineServer.pid },
      { name: 'GET /api/v1/auth/me', url: `${custos.server.url}/api/v1/auth/me`, headers: { authorization: `Bearer ${custos.token}` }, pid: custos.server.pid },
      { name: 'GET /v1/health (info)', url: `${custos.server.url}/v1/health`, pid: custos.server.pid },
    ], plan, (line) => process.stderr.write(`  ${line}\n`));
    if (!baseline || !me || !health) throw new Error('measureInterleaved returned fewer figures than targets');
    // Login: argon2id sets the ceiling; measured in the same run, at the same concurrency, while the server idles.
    process.stderr.write(`  measuring argon2id verifications at ${plan.connections} concurrent\n`);
    const hashesPerSec = await measureArgon2(plan.connections, Math.max(2, plan.durationSeconds / 2));
    const users = await provisionLoginUsers(custos.server.url, custos.tenant, custos.token, Math.ceil((hashesPerSec * (plan.durationSeconds + 1) * 1.5) / 9));
    process.stderr.write(`  measuring logins over ${users.length} accounts for ${plan.durationSeconds} s\n`);
    const login = await measureLogins(custos.server.url, custos.tenant, users, plan.connections, plan.durationSeconds, custos.server.pid);
    const judged = judge(baseline, me, { hashesPerSec, loginsPerSec: login.loginsPerSec });
    say(formatReport(baseline, [me, health], judged));
    say('');
    say(`login: ${login.loginsPerSec.toFixed(1)} logins/s (p99 ${login.p99Ms.toFixed(0)} ms, ${login.cpuMsPerLogin?.toFixed(1) ?? 'n/a'} ms server CPU each, ${login.logins} logins over ${users.length} accounts) against ${hashesPerSec.toFixed(1)} argon2id verifications/s`);
    say('');
    say('(latency: per-response client-side timings, sub-millisecond; req/s: 2xx responses / measured seconds;');
    say(" cpu us/req: the server process's user+system CPU per answered request, from /proc: steadier than req/s on a busy machine)");

    // Stop before summarising so a --cpu-prof profile is written and its path can be named.
    await cleanup.run();
    if (profileDir) say(`CPU profile of the custos server written to ${profileDir}`);
    say(summaryLine(baseline, me, health, judged, { login: { loginsPerSec: +login.loginsPerSec.toFixed(1), hashesPerSec: +hashesPerSec.toFixed(1), p99Ms: Math.round(login.p99Ms), logins: login.logins }, connections: plan.connections, durationSeconds: plan.durationSeconds, rounds: plan.rounds, logLevel: LOG_LEVEL, node: process.version, cpus: os.cpus().length }));
    return judged.verdicts.every((v) => v.pass);
  } finally {
    await cleanup.run();
  }
}

try {
  const flags = readFlags();
  const pass = await main(flags);
  if (!pass && flags.strict) {
    process.stderr.write('bench: a budget failed and --strict was given\n');
    process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 2;
}
