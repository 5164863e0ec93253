// The compliance report on a large tenant: 100,000 credentials on 10,000 devices (10% high criticality) and 1,000
// access policies, most of them allow-mode reveals that cover no high-criticality device (the report's worst case:
// the engine must rule each of them out). Rows are written straight into the tables; the report is timed through
// the service, as GET /api/v1/compliance/report runs it. SQLite by default; `--database postgres` for PostgreSQL.
import { pathToFileURL } from 'node:url';
import { newId } from '../src/platform/ids.js';
import type { Db } from '../src/platform/db/database.js';
import { createComplianceService } from '../src/features/compliance/compliance.service.js';
import { sql } from 'kysely';
import { databaseFromArgv, insertChunked, withScratchRuntime, type BenchDatabase } from './scratch-runtime.js';

const DAY = 24 * 3600_000;
const SIZE = { devices: 10_000, perDevice: 10, policies: 1_000, users: 200 };

async function seed(db: Db, tenantId: string, now: number) {
  await db.insertInto('tenants').values({ id: tenantId, slug: 'bench-compliance', name: 'bench', status: 'active', created_at: now, updated_at: now }).execute();
  const users = Array.from({ length: SIZE.users }, (_, i) => ({
    tenant_id: tenantId, id: newId(now + i), username: `user-${i}`, email: `u${i}@bench.example`, display_name: null, status: 'active' as const, password_hash: null,
    created_at: now, updated_at: now, last_login_at: now - (i % 120) * DAY, failed_logins: 0, locked_until: null, password_changed_at: now,
  }));
  await insertChunked(users, (c) => db.insertInto('users').values(c).execute());
  await insertChunked(users.slice(0, 5).map((u) => ({ tenant_id: tenantId, user_id: u.id, role: 'tenant-admin' })), (c) => db.insertInto('user_roles').values(c).execute());
  const devices = Array.from({ length: SIZE.devices }, (_, i) => ({
    tenant_id: tenantId, id: newId(now + i), name: `srv-${i}`, address: '192.0.2.10', port: 22, protocol: 'ssh', type: ['linux', 'windows', 'database', 'network'][i % 4]!, vendor: null, model: null,
    site: `site-${i % 10}`, criticality: (i % 10 === 0 ? 'high' : 'medium') as 'high' | 'medium', status: 'active' as const, description: null, created_at: now, updated_at: now,
  }));
  await insertChunked(devices, (c) => db.insertInto('devices').values(c).execute());
  const credentials = devices.flatMap((d, i) => Array.from({ length: SIZE.perDevice }, (_, k) => ({
    tenant_id: tenantId, id: newId(now + i * SIZE.perDevice + k), device_id: d.id, username: `acct-${k}`, type: 'password' as const, version: 1 + ((i + k) % 3), secret_sealed: null,
    passphrase_sealed: null, totp_sealed: null, owner_id: null, notes: null, additional_info: '{}', status: 'active' as const, needs_rotation: 0,
    secret_changed_at: now - ((i * 7 + k * 13) % 400) * DAY, created_at: now - 400 * DAY, updated_at: now,
  })));
  await insertChunked(credentials, (c) => db.insertInto('credentials').values(c).execute());
  const credentialPolicies = ['linux', 'windows', 'database', 'network'].map((type, i) => ({
    tenant_id: tenantId, id: newId(now + i), name: `${type} 90 days`, priority: i, filters: JSON.stringify({ deviceTypes: [type] }), rules: JSON.stringify({ minLength: 12, requireClasses: [], maxAgeDays: 90 }), created_at: now, updated_at: now,
  }));
  await db.insertInto('credential_policies').values(credentialPolicies).execute();
  const policies = Array.from({ length: SIZE.policies }, (_, i) => ({
    tenant_id: tenantId, id: newId(now + i), name: `policy-${i}`, description: null, enabled: 1,
    // 990 allow-mode policies on medium devices (their names end in 1-9), 10 on everything with approval.
    filters: JSON.stringify(i < 990 ? { deviceNames: [`srv-${i}${1 + (i % 9)}`], credentialUsernames: ['acct-*'] } : {}),
    actions: JSON.stringify(i < 990 ? { reveal: { mode: 'allow', emergencyAllowed: false } } : { reveal: { mode: 'approval', levels: [{ required: 1 }], emergencyAllowed: false } }),
    created_at: now - (i % 200) * DAY, updated_at: now - (i % 200) * DAY,
  }));
  await insertChunked(policies, (c) => db.insertInto('access_policies').values(c).execute());
  const subjects = policies.map((p, i) => ({ tenant_id: tenantId, policy_id: p.id, relation: 'member' as const, action: '', level: 0, subject_type: 'user' as const, subject_id: users[i % SIZE.users]!.id }));
  await insertChunked(subjects, (c) => db.insertInto('access_policy_subjects').values(c).execute());
}

/** Times each control on its own (COMPLIANCE_BENCH_PROFILE=1), to see where the report spends its time. */
async function profile(db: Db, tenantId: string, now: number) {
  const vault = await import('../src/features/compliance/compliance.vault-checks.js');
  const policies = await vault.loadAccessPolicies(db, tenantId);
  for (const [name, run] of [
    ['credential-age', () => vault.credentialAgeControl(db, tenantId, now)],
    ['policies-without-approval', () => vault.approvalControl(db, tenantId, policies, now)],
  ] as const) {
    const started = performance.now();
    await run();
    console.log(`  ${name}: ${Math.round(performance.now() - started)} ms`);
  }
}

/** Seeds the large tenant and measures the report: its p50 and worst time over a few runs. */
export async function benchCompliance(options: { database?: BenchDatabase; runs?: number } = {}) {
  const database = options.database ?? 'sqlite';
  return withScratchRuntime('compliance', database, Date.UTC(2026, 5, 1), async (runtime, clock) => {
    const db = runtime.database.db;
    const tenantId = newId(clock.now());
    const seeded = Date.now();
    await seed(db, tenantId, clock.now());
    // As autovacuum (PostgreSQL) and a long-running node's statistics would: bulk rows without statistics mislead the planners.
    await sql`analyze`.execute(db);
    if (process.env.COMPLIANCE_BENCH_PROFILE) await profile(db, tenantId, clock.now());
    const seedSeconds = (Date.now() - seeded) / 1000;
    const compliance = createComplianceService({ db, audit: runtime.audit, clock, siemHealth: async () => [] });
    const times: number[] = [];
    let last = null as Awaited<ReturnType<typeof compliance.compute>> | null;
    for (let i = 0; i < (options.runs ?? 5); i += 1) {
      const started = performance.now();
      last = await compliance.compute(db, tenantId);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p50 = times[Math.floor(times.length / 2)]!;
    const worst = times[times.length - 1]!;
    const counts = Object.fromEntries(last!.controls.map((c) => [c.id, c.offenderCount]));
    return {
      lines: [
        `compliance report (${database}): ${SIZE.devices * SIZE.perDevice} credentials, ${SIZE.policies} access policies, ${SIZE.users} users; seeded in ${seedSeconds.toFixed(1)} s`,
        `  report p50 ${p50.toFixed(0)} ms, worst ${worst.toFixed(0)} ms over ${times.length} runs; offenders ${JSON.stringify(counts)}`,
      ],
      figures: { [`compliance_report_p50_ms_${database}`]: Math.round(p50), [`compliance_report_max_ms_${database}`]: Math.round(worst) },
    };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const database = databaseFromArgv();
  const result = await benchCompliance({ database });
  for (const line of result.lines) console.log(line);
}
