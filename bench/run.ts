// `npm run bench [-- --strict --database sqlite|postgres|both --suite all|vault|monitoring|targets|operations --duration S --warmup S
//   --rounds N --connections N --credentials N --devices N --policies N --profile DIR]`: Custos against a bare
//   Fastify baseline (vault), the monitoring budgets (SIEM forwarding, audit verify and search), and the target
//   budgets (SSH rotation, connectivity checks beside API traffic), and operations (snapshot and restore figures).
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createCleanup, type Cleanup } from './cleanup.js';
import { startServerChild, type ServerChild } from './child-process.js';
import { startCustos } from './custos.js';
import { measureInterleaved, type LoadPlan, type Measurement } from './load.js';
import { measureArgon2, measureLogins, provisionLoginUsers } from './login.js';
import { startBenchPostgres } from './postgres.js';
import { formatReport, judge, judgeVault, rounded, summaryLine, type Verdict } from './report.js';
import { seedVault, type SeedPlan } from './vault-seed.js';
import { benchMonitoring } from './monitoring.js';
import { benchTargets } from './targets.js';
import { benchSnapshots } from './snapshots.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const LOG_LEVEL = 'warn';
type Database = 'sqlite' | 'postgres';
const LIST = 'GET /api/v1/credentials?tag=prod&site=…&limit=50';

/** Reads the command line; a bad flag is an error like any other (exit 2), not a stack trace from the top level. */
function readFlags() {
  const { values } = parseArgs({
    options: {
      strict: { type: 'boolean', default: false },
      database: { type: 'string', default: 'both' },
      suite: { type: 'string', default: 'all' },
      duration: { type: 'string', default: '8' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      credentials: { type: 'string', default: '100000' },
      devices: { type: 'string', default: '5000' },
      policies: { type: 'string', default: '1000' },
      profile: { type: 'string' },
    },
  });
  const number = (name: keyof typeof values, min: number): number => {
    const value = Number(values[name]);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, got "${String(values[name])}"`);
    return value;
  };
  const plan: LoadPlan = { connections: number('connections', 1), warmupSeconds: number('warmup', 0), durationSeconds: number('duration', 1), rounds: number('rounds', 1) };
  const seed: SeedPlan = { credentials: number('credentials', 1), devices: number('devices', 1), policies: number('policies', 1) };
  const choice = values.database;
  if (choice !== 'sqlite' && choice !== 'postgres' && choice !== 'both') throw new Error(`--database is sqlite, postgres or both, got "${choice}"`);
  const databases: Database[] = choice === 'both' ? ['sqlite', 'postgres'] : [choice];
  const suite = values.suite;
  if (!['all', 'vault', 'monitoring', 'targets', 'operations'].includes(suite)) throw new Error(`--suite is all, vault, monitoring, targets or operations, got "${suite}"`);
  return { plan, seed, databases, suite, strict: values.strict, profileDir: values.profile ? path.resolve(values.profile) : undefined };
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`  ${line}\n`);

interface DatabaseRun {
  database: Database;
  report: string;
  verdicts: Verdict[];
  figures: Record<string, unknown>;
}

/**
 * One database: a Custos server on it, the vault seeded, then the baseline, `me`, health (SQLite), reveal and a
 * filtered list page measured interleaved; on SQLite also login. The server (and cluster) stop before the next.
 */
async function benchDatabase(database: Database, baselineServer: ServerChild, flags: ReturnType<typeof readFlags>, cleanup: Cleanup): Promise<DatabaseRun> {
  const { plan, seed, profileDir } = flags;
  const postgres = database === 'postgres' ? await startBenchPostgres(cleanup) : undefined;
  const profileHere = profileDir ? path.join(profileDir, database) : undefined;
  if (profileHere) mkdirSync(profileHere, { recursive: true });
  const custos = await startCustos({ repoRoot, logLevel: LOG_LEVEL, databaseUrl: postgres?.url, nodeFlags: profileHere ? ['--cpu-prof', '--cpu-prof-dir', profileHere] : [] }, cleanup);
  const where = postgres ? `PostgreSQL (${postgres.version}, ${postgres.settings}) at ${postgres.url}` : `embedded SQLite in ${custos.dataDir}`;
  say(`  custos on ${database}: bin/custos server, ${where}, at ${custos.server.url}, CUSTOS_LOG_LEVEL=${LOG_LEVEL} (request logs off)`);
  progress(`[${database}] seeding ${seed.credentials} credentials on ${seed.devices} devices and ${seed.policies} access policies`);
  const vault = await seedVault(custos.server.url, custos.tenant, custos.token, seed, (line) => progress(`[${database}] ${line}`));
  say(`  seeded on ${database}: ${vault.counts.credentials} credentials on ${vault.counts.devices} devices (import ${vault.seconds.import.toFixed(0)} s), ${vault.counts.policies} access policies (${vault.seconds.policies.toFixed(0)} s), ${vault.counts.users} users, ${vault.counts.groups} groups; the revealer is named by ${vault.revealerPolicies} policies and reveals ${vault.revealIds.length} credentials in rotation`);

  const base = custos.server.url;
  const json = { 'content-type': 'application/json' };
  const targets = [
    { name: 'baseline GET /', url: `${baselineServer.url}/`, pid: baselineServer.pid },
    { name: 'GET /api/v1/auth/me', url: `${base}/api/v1/auth/me`, headers: { authorization: `Bearer ${custos.token}` }, pid: custos.server.pid },
    ...(database === 'sqlite' ? [{ name: 'GET /v1/health (info)', url: `${base}/v1/health`, pid: custos.server.pid }] : []),
    {
      name: 'POST /api/v1/credentials/{id}/reveal',
      url: `${base}/api/v1/credentials/${vault.revealIds[0]}/reveal`,
      method: 'POST' as const,
      body: '{}',
      headers: { ...json, authorization: `Bearer ${vault.revealer.token}` },
      paths: vault.revealIds.map((id) => `/api/v1/credentials/${id}/reveal`),
      pid: custos.server.pid,
    },
    { name: LIST, url: `${base}${vault.listPaths[0]}`, headers: { authorization: `Bearer ${custos.token}` }, paths: vault.listPaths, pid: custos.server.pid },
    // The same page for one user at a time: its service time, without the queue 10 connections build in front of it.
    { name: `${LIST}, 1 connection (info)`, url: `${base}${vault.listPaths[0]}`, headers: { authorization: `Bearer ${custos.token}` }, paths: vault.listPaths, pid: custos.server.pid, connections: 1 },
  ];
  const measured = await measureInterleaved(targets, plan, (line) => progress(`[${database}] ${line}`));
  const byName = (name: string): Measurement => {
    const found = measured.find((m) => m.name === name);
    if (!found) throw new Error(`no figure for ${name}`);
    return found;
  };
  const baseline = byName('baseline GET /');
  const me = byName('GET /api/v1/auth/me');
  const reveal = byName('POST /api/v1/credentials/{id}/reveal');
  const list = byName(LIST);
  const listAlone = byName(`${LIST}, 1 connection (info)`);
  const vaultJudged = judgeVault(database, baseline, reveal, list);
  const figures: Record<string, unknown> = {
    baseline: rounded(baseline),
    me: { ...rounded(me), ratio: +(me.reqPerSec / baseline.reqPerSec).toFixed(3) },
    reveal: { ...rounded(reveal), ratio: +vaultJudged.ratio.toFixed(3) },
    list: rounded(list),
    listOneConnection: rounded(listAlone),
    seed: { ...vault.counts, revealerPolicies: vault.revealerPolicies, revealIds: vault.revealIds.length, importSeconds: Math.round(vault.seconds.import), policySeconds: Math.round(vault.seconds.policies) },
  };
  const verdicts: Verdict[] = [];
  let loginLine = '';
  if (database === 'sqlite') {
    const health = byName('GET /v1/health (info)');
    figures.health = { ...rounded(health), ratio: +(health.reqPerSec / baseline.reqPerSec).toFixed(3) };
    // Login: argon2id sets the ceiling; measured in the same run, at the same concurrency, while the server idles.
    progress(`[${database}] measuring argon2id verifications at ${plan.connections} concurrent`);
    const hashesPerSec = await measureArgon2(plan.connections, Math.max(2, plan.durationSeconds / 2));
    const users = await provisionLoginUsers(base, custos.tenant, custos.token, Math.ceil((hashesPerSec * (plan.durationSeconds + 1) * 1.5) / 9));
    progress(`[${database}] measuring logins over ${users.length} accounts for ${plan.durationSeconds} s`);
    const login = await measureLogins(base, custos.tenant, users, plan.connections, plan.durationSeconds, custos.server.pid);
    const meJudged = judge(baseline, me, { hashesPerSec, loginsPerSec: login.loginsPerSec });
    verdicts.push(...meJudged.verdicts);
    figures.ratio = +meJudged.ratio.toFixed(3);
    figures.login = { loginsPerSec: +login.loginsPerSec.toFixed(1), hashesPerSec: +hashesPerSec.toFixed(1), p99Ms: Math.round(login.p99Ms), logins: login.logins };
    loginLine = `login: ${login.loginsPerSec.toFixed(1)} logins/s (p99 ${login.p99Ms.toFixed(0)} ms, ${login.cpuMsPerLogin?.toFixed(1) ?? 'n/a'} ms server CPU each, ${login.logins} logins over ${users.length} accounts) against ${hashesPerSec.toFixed(1)} argon2id verifications/s`;
  }
  verdicts.push(...vaultJudged.verdicts);
  const routes = measured.filter((m) => m !== baseline);
  const report = [`${database}:`, formatReport(baseline, routes, { verdicts }), ...(loginLine ? ['', loginLine] : [])].join('\n');
  return { database, report, verdicts, figures };
}

async function main(flags: ReturnType<typeof readFlags>): Promise<boolean> {
  const { plan, profileDir } = flags;
  const cleanup = createCleanup();
  try {
    if (profileDir) mkdirSync(profileDir, { recursive: true });
    const baselineServer = await startServerChild({
      name: 'baseline server',
      args: ['--import', 'tsx', path.join(repoRoot, 'bench', 'baseline-server.ts')],
      cwd: repoRoot,
      ready: /listening on (http:\/\/\S+)/,
    }, cleanup);

    say(`Custos bench: ${plan.connections} connections, ${plan.warmupSeconds} s warm-up + ${plan.durationSeconds} s measured per route in ${plan.rounds} alternating rounds; node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'})`);
    say(`  baseline: bare Fastify 5 GET / in its own process at ${baselineServer.url}, measured again interleaved with each database's routes`);
    const runs: DatabaseRun[] = [];
    for (const database of flags.suite === 'all' || flags.suite === 'vault' ? flags.databases : []) {
      // Each database's server (and cluster) stops before the next starts: they would share the 2 CPUs otherwise.
      const mark = cleanup.mark();
      try {
        runs.push(await benchDatabase(database, baselineServer, flags, cleanup));
      } finally {
        await cleanup.unwind(mark);
      }
    }
    // Monitoring runs after the vault servers stopped, so its figures do not share the CPUs with them.
    const monitoring = flags.suite === 'all' || flags.suite === 'monitoring' ? await benchMonitoring(flags.databases, progress) : undefined;
    // Targets last: real sshd accounts, and Custos servers checking devices while serving API traffic.
    const targets = flags.suite === 'all' || flags.suite === 'targets' ? await benchTargets(flags.databases, repoRoot, cleanup, progress) : undefined;
    // Operations: snapshot, verify and restore of a large tenant, and a system snapshot of 100 tenants (figures, no budget).
    const operations: { lines: string[]; figures: Record<string, number> } = { lines: [], figures: {} };
    for (const database of flags.suite === 'all' || flags.suite === 'operations' ? flags.databases : []) {
      progress(`[operations] ${database}: seeding a tenant of 100,000 credentials and 1,000,000 events, snapshot and restore`);
      const result = await benchSnapshots({ database });
      operations.lines.push(...result.lines);
      Object.assign(operations.figures, result.figures);
    }
    say('');
    for (const run of runs) {
      say(run.report);
      say('');
    }
    if (monitoring) {
      say('monitoring:');
      for (const line of monitoring.lines) say(`  ${line}`);
      for (const v of monitoring.verdicts) say(`  budget ${v.name}: ${v.actual} ${v.pass ? 'PASS' : 'FAIL'}`);
      say('');
    }
    if (operations.lines.length > 0) {
      say('operations:');
      for (const line of operations.lines) say(`  ${line}`);
      say('');
    }
    if (targets) {
      say('targets:');
      for (const line of targets.lines) say(`  ${line}`);
      for (const v of targets.verdicts) say(`  budget ${v.name}: ${v.actual} ${v.pass ? 'PASS' : 'FAIL'}`);
      say('');
    }
    say('(latency: per-response client-side timings, sub-millisecond; req/s: 2xx responses / measured seconds;');
    say(" cpu us/req: the server process's user+system CPU per answered request, from /proc: steadier than req/s on a busy machine;");
    say(' reveal: a plain user, allow-mode policies, rotating over the credentials; list: an administrator, the first page of 10 sites in rotation, judged at the same connections as the rest)');
    await cleanup.run();
    if (profileDir) say(`CPU profiles of the custos servers written to ${profileDir}/<database>`);
    const verdicts = [...runs.flatMap((r) => r.verdicts), ...(monitoring?.verdicts ?? []), ...(targets?.verdicts ?? [])];
    say(summaryLine(
      { connections: plan.connections, durationSeconds: plan.durationSeconds, rounds: plan.rounds, logLevel: LOG_LEVEL, node: process.version, cpus: os.cpus().length },
      { ...Object.fromEntries(runs.map((r) => [r.database, r.figures])), ...(monitoring ? { monitoring: monitoring.figures } : {}), ...(targets ? { targets: targets.figures } : {}), ...(operations.lines.length > 0 ? { operations: operations.figures } : {}) },
      verdicts,
    ));
    return verdicts.every((v) => v.pass);
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
