// Issue 7's snapshot figures: one tenant of 100,000 credentials (sealed secrets, one history version each) and
// 1,000,000 audit events, snapshotted, verified and restored into the running system; then a full snapshot of 100
// tenants (that one and 99 small ones). Seconds and MB/s of each. `node --import tsx bench/snapshots.ts [postgres]`.
import { statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { seedChain } from '../src/features/audit/chain-seed.js';
import { versionContext } from '../src/features/vault/credentials.sealing.js';
import type { Runtime } from '../src/main/runtime.js';
import type { CredentialTable } from '../src/platform/db/schema.js';
import { newId } from '../src/platform/ids.js';
import { databaseFromArgv, insertChunked, withScratchRuntime, type BenchDatabase } from './scratch-runtime.js';

const operator = { kind: 'operator' as const, id: 'bench', ip: null };
const MB = 1_048_576;

/** A tenant with `credentials` sealed credentials (10 per device) and a chain of `events` audit events. */
async function seedTenant(runtime: Runtime, slug: string, now: number, size: { credentials: number; events: number }): Promise<string> {
  const db = runtime.database.db;
  const tenantId = newId(now);
  await db.insertInto('tenants').values({ id: tenantId, slug, name: slug, status: 'active', created_at: now, updated_at: now }).execute();
  await runtime.keyring.createScopeKey(db, tenantId);
  const devices = Array.from({ length: Math.ceil(size.credentials / 10) }, (_, i) => ({
    tenant_id: tenantId, id: newId(now + i), name: `srv-${i}`, address: '192.0.2.10', port: 22, protocol: 'ssh', type: 'linux', vendor: null, model: null,
    site: `site-${i % 10}`, criticality: 'medium' as const, status: 'active' as const, description: null, created_at: now, updated_at: now,
  }));
  await insertChunked(devices, (c) => db.insertInto('devices').values(c).execute());
  const credentials: { id: string; secret_sealed: string }[] = [];
  const rows: CredentialTable[] = [];
  for (let i = 0; i < size.credentials; i += 1) {
    const id = newId(now + i);
    const sealed = await runtime.keyring.seal(db, versionContext(tenantId, id, 1, 'secret'), `Secret-${i}-${(i * 2654435761) % 1e9}!`);
    const row = { tenant_id: tenantId, id, device_id: devices[Math.floor(i / 10)]!.id, username: `acct-${i % 10}`, type: 'password' as const, version: 1, secret_sealed: sealed, passphrase_sealed: null, totp_sealed: null, owner_id: null, notes: null, additional_info: '{}', status: 'active' as const, needs_rotation: 0, secret_changed_at: now, created_at: now, updated_at: now };
    credentials.push(row);
    rows.push(row);
  }
  await insertChunked(rows, (c) => db.insertInto('credentials').values(c).execute());
  await insertChunked(credentials.map((c) => ({ tenant_id: tenantId, credential_id: c.id, version: 1, secret_sealed: c.secret_sealed, passphrase_sealed: null, reason: 'import', created_by: 'bench', created_at: now })), (c) => db.insertInto('credential_versions').values(c).execute());
  if (size.events > 0) {
    await seedChain({ db, keyring: runtime.keyring }, tenantId, size.events, (n) => ({ action: n % 2 ? 'credential.revealed' : 'auth.login.succeeded', actorId: `user-${n % 500}`, target: { type: 'credential', id: credentials[n % credentials.length]!.id }, details: { n } }), { startAt: now - size.events * 2500, stepMs: 2500 });
  }
  return tenantId;
}

const rate = (bytes: number, seconds: number) => +(bytes / MB / seconds).toFixed(1);

/** Seeds, then times tenant snapshot, verify and restore, and a system snapshot of all tenants. */
export async function benchSnapshots(options: { database?: BenchDatabase; credentials?: number; events?: number; tenants?: number } = {}) {
  const database = options.database ?? 'sqlite';
  const size = { credentials: options.credentials ?? 100_000, events: options.events ?? 1_000_000 };
  const tenants = options.tenants ?? 100;
  const start = Date.UTC(2026, 5, 1);
  return withScratchRuntime('snapshots', database, start, async (runtime) => {
    const seeded = performance.now();
    await seedTenant(runtime, 'bench-big', start, size);
    for (let i = 1; i < tenants; i += 1) await seedTenant(runtime, `bench-small-${i}`, start + i * 1_000_000, { credentials: 100, events: 1_000 });
    const seedSeconds = (performance.now() - seeded) / 1000;
    const snapshots = runtime.services.snapshots;

    const taken = await snapshots.create(operator, { tenantSlug: 'bench-big' });
    const bytes = statSync(taken.path).size;
    const verifyStarted = performance.now();
    const verified = snapshots.verify(taken.id);
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    const restored = await snapshots.restoreTenant(operator, taken.id);
    if (restored.rows !== verified.rows) throw new Error(`the restore wrote ${restored.rows} rows of ${verified.rows}`);
    const auditOk = await runtime.audit.verify(runtime.database.db, restored.tenantId);
    if (!auditOk.ok) throw new Error('the restored chain does not verify');
    const system = await snapshots.create(operator);

    const figures = {
      [`snapshot_tenant_seconds_${database}`]: +taken.seconds.toFixed(2),
      [`snapshot_tenant_mb_${database}`]: +(bytes / MB).toFixed(1),
      [`snapshot_tenant_mb_per_s_${database}`]: rate(bytes, taken.seconds),
      [`snapshot_tenant_verify_seconds_${database}`]: +verifySeconds.toFixed(2),
      [`snapshot_tenant_restore_seconds_${database}`]: +restored.seconds.toFixed(2),
      [`snapshot_tenant_restore_mb_per_s_${database}`]: rate(bytes, restored.seconds),
      [`snapshot_system_${tenants}_tenants_seconds_${database}`]: +system.seconds.toFixed(2),
      [`snapshot_system_${tenants}_tenants_mb_${database}`]: +(system.bytes / MB).toFixed(1),
    };
    const lines = [
      `snapshots (${database}): one tenant of ${size.credentials} credentials and ${size.events} audit events (+${tenants - 1} small tenants; seeded in ${seedSeconds.toFixed(0)} s)`,
      `  tenant snapshot: ${taken.rows} rows, ${(bytes / MB).toFixed(1)} MB in ${taken.seconds.toFixed(1)} s (${rate(bytes, taken.seconds)} MB/s, ${Math.round(taken.rows / taken.seconds)} rows/s); verify ${verifySeconds.toFixed(1)} s`,
      `  tenant restore into the running system: ${restored.rows} rows in ${restored.seconds.toFixed(1)} s (${rate(bytes, restored.seconds)} MB/s of snapshot, ${Math.round(restored.rows / restored.seconds)} rows/s); the restored chain verifies`,
      `  system snapshot of ${tenants} tenants: ${system.rows} rows, ${(system.bytes / MB).toFixed(1)} MB in ${system.seconds.toFixed(1)} s (${rate(system.bytes, system.seconds)} MB/s)`,
    ];
    return { lines, figures };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--events');
  const result = await benchSnapshots({ database: databaseFromArgv(), ...(at > 0 ? { events: Number(process.argv[at + 1]) } : {}) });
  for (const line of result.lines) console.log(line);
  console.log(JSON.stringify(result.figures));
}
