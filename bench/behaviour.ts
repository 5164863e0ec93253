// Behaviour analytics throughput: a tenant with 500 users and 100,000 audit events (logins, reveals, checkouts,
// failed logins and other events; each user uses 20 of the 2,000 credentials, from 250 addresses) written straight into the log, then one consumer pass scores the backlog. The
// figure is events read and scored per second (pages of 1,000, one transaction each). SQLite by default;
// `--database postgres` (or the argument postgres) for PostgreSQL.
import { pathToFileURL } from 'node:url';
import { newId } from '../src/platform/ids.js';
import type { Db } from '../src/platform/db/database.js';
import { eventCatalogue, type AuditAction } from '../src/platform/audit/catalogue.js';
import { createBehaviourConsumer } from '../src/features/behaviour/behaviour.consumer.js';
import { databaseFromArgv, insertChunked, withScratchRuntime, type BenchDatabase } from './scratch-runtime.js';

const SIZE = { users: 500, devices: 200, credentials: 2_000, events: 100_000 };
const MINUTE = 60_000;
const WORKING_SET = 20;

async function seed(db: Db, tenantId: string, start: number) {
  await db.insertInto('tenants').values({ id: tenantId, slug: 'bench-behaviour', name: 'bench', status: 'active', created_at: start, updated_at: start }).execute();
  const users = Array.from({ length: SIZE.users }, (_, i) => ({
    tenant_id: tenantId, id: newId(start + i), username: `user-${i}`, email: `u${i}@bench.example`, display_name: null, status: 'active' as const, password_hash: null,
    created_at: start, updated_at: start, last_login_at: null, failed_logins: 0, locked_until: null, password_changed_at: start,
  }));
  await insertChunked(users, (c) => db.insertInto('users').values(c).execute());
  const devices = Array.from({ length: SIZE.devices }, (_, i) => ({
    tenant_id: tenantId, id: newId(start + i), name: `srv-${i}`, address: '192.0.2.10', port: 22, protocol: 'ssh', type: 'linux', vendor: null, model: null,
    site: null, criticality: (i % 10 === 0 ? 'high' : 'medium') as 'high' | 'medium', status: 'active' as const, description: null, created_at: start, updated_at: start,
  }));
  await insertChunked(devices, (c) => db.insertInto('devices').values(c).execute());
  const credentials = Array.from({ length: SIZE.credentials }, (_, i) => ({
    tenant_id: tenantId, id: newId(start + i), device_id: devices[i % SIZE.devices]!.id, username: `acct-${i}`, type: 'password' as const, version: 1, secret_sealed: null,
    passphrase_sealed: null, totp_sealed: null, owner_id: null, notes: null, additional_info: '{}', status: 'active' as const, needs_rotation: 0, secret_changed_at: start, created_at: start, updated_at: start,
  }));
  await insertChunked(credentials, (c) => db.insertInto('credentials').values(c).execute());
  const mix: AuditAction[] = ['auth.login.succeeded', 'credential.revealed', 'credential.revealed', 'credential.checked_out', 'auth.login.failed', 'device.updated'];
  const events = Array.from({ length: SIZE.events }, (_, i) => {
    const action = mix[i % mix.length]!;
    const definition = eventCatalogue[action];
    const userIndex = (i * 7) % SIZE.users;
    const user = users[userIndex]!;
    // Each user works with a set of WORKING_SET credentials (a PAM user's usual accounts), shifted across the users.
    const credential = credentials[(userIndex * 4 + ((i * 13) % WORKING_SET)) % SIZE.credentials]!;
    const use = action === 'credential.revealed' || action === 'credential.checked_out';
    return {
      tenant_id: tenantId, seq: i + 1, id: newId(start + i), occurred_at: start + i * (MINUTE / 10), type_id: definition.id, action, category: definition.category, severity: definition.severity,
      outcome: action === 'auth.login.failed' ? ('failure' as const) : ('success' as const), actor_kind: 'user', actor_id: user.id, actor_ip: `10.0.${i % 4}.${(i * 7) % 250}`,
      target_type: use ? 'credential' : 'session', target_id: use ? credential.id : newId(start), details: JSON.stringify(use ? { version: 1, mode: 'allow', emergency: false } : { username: user.username }),
      prev_hash: 'x', hash: 'x',
    };
  });
  await insertChunked(events, (c) => db.insertInto('audit_events').values(c).execute());
  await db.insertInto('audit_heads').values({ tenant_id: tenantId, seq: SIZE.events, hash: 'x', mac: 'x', updated_at: start }).execute();
}

/** Seeds the backlog and times one consumer pass over it. */
export async function benchBehaviour(options: { database?: BenchDatabase } = {}) {
  const database = options.database ?? 'sqlite';
  return withScratchRuntime('behaviour', database, Date.UTC(2026, 5, 1), async (runtime, clock) => {
    const db = runtime.database.db;
    const tenantId = newId(clock.now());
    await seed(db, tenantId, clock.now() - SIZE.events * (MINUTE / 10));
    // Alerts would only add mail jobs; the figure is the scoring itself.
    const consumer = createBehaviourConsumer({ db, audit: runtime.audit, clock, notify: async () => undefined });
    const started = performance.now();
    const done = await consumer.consume();
    const seconds = (performance.now() - started) / 1000;
    const perSecond = Math.round(SIZE.events / seconds);
    return {
      lines: [
        `behaviour analytics (${database}): ${SIZE.events} audit events (${done.scored} scored, ${done.alerts} alerts) of ${SIZE.users} users in ${seconds.toFixed(2)} s: ${perSecond} events/s`,
      ],
      figures: { [`behaviour_events_per_s_${database}`]: perSecond },
    };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const database = databaseFromArgv();
  const result = await benchBehaviour({ database });
  for (const line of result.lines) console.log(line);
}
