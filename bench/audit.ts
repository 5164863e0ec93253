// The audit trail at size: a tenant chain of 1,000,000 events (seeded as correctly chained rows in big
// transactions, never through 1M appends), then `audit verify` throughput (budget >= 200,000 events/s) and the
// p95 of filtered search pages (budget <= 50 ms), through the services the routes call. SQLite by default;
// `node --import tsx bench/audit.ts postgres` for PostgreSQL, `--events N` for another size.
import { sql } from 'kysely';
import { pathToFileURL } from 'node:url';
import { newId } from '../src/platform/ids.js';
import { eventCatalogue, type AuditAction } from '../src/platform/audit/catalogue.js';
import { seedChain } from '../src/features/audit/chain-seed.js';
import type { SearchQuery } from '../src/features/audit/audit.schemas.js';
import { databaseFromArgv, withScratchRuntime, type BenchDatabase } from './scratch-runtime.js';

const ACTORS = 500;
const TARGETS = 20_000;
const IPS = 200;
// The common events dominate, as in a real tenant: logins and reveals; every catalogued action appears.
const actions = Object.keys(eventCatalogue) as AuditAction[];
const common: AuditAction[] = ['auth.login.succeeded', 'credential.revealed', 'auth.logout', 'credential.checked_out', 'credential.checked_in', 'device.updated'];
const actionOf = (n: number): AuditAction => (n % 10 < 7 ? common[n % common.length]! : actions[(n * 7919) % actions.length]!);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Seeds the chain, times a full verify, then filtered search pages of every kind; answers the figures. */
export async function benchAudit(options: { database?: BenchDatabase; events?: number; rounds?: number } = {}) {
  const database = options.database ?? 'sqlite';
  const total = options.events ?? 1_000_000;
  const start = Date.UTC(2026, 0, 1);
  return withScratchRuntime('audit', database, start, async (runtime, clock) => {
    const db = runtime.database.db;
    const tenantId = newId(clock.now());
    await db.insertInto('tenants').values({ id: tenantId, slug: 'bench-audit', name: 'bench', status: 'active', created_at: start, updated_at: start }).execute();
    await runtime.keyring.createScopeKey(db, tenantId);
    const seeded = performance.now();
    // One event every 2.5 s on average: a million events span about a month.
    await seedChain({ db, keyring: runtime.keyring }, tenantId, total, (n) => ({
      action: actionOf(n), actorId: `user-${(n * 31) % ACTORS}`, actorIp: `10.1.${(n * 17) % IPS >> 8}.${(n * 17) % IPS & 255}`,
      outcome: n % 37 === 0 ? 'failure' : 'success', target: n % 5 === 0 ? null : { type: 'credential', id: `cred-${(n * 13) % TARGETS}` }, details: { n, justification: `ticket ${n % 10_000}` },
    }), { startAt: start, stepMs: 2500 });
    const seedSeconds = (performance.now() - seeded) / 1000;
    // What autovacuum would do after a bulk load; SQLite runs without statistics, as a fresh installation does.
    if (database === 'postgres') await sql`analyze audit_events`.execute(db);

    const verifyStarted = performance.now();
    const verified = await runtime.audit.verify(db, tenantId);
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    if (!verified.ok) throw new Error(`the seeded chain does not verify: ${verified.problem?.message}`);
    const verifyRate = verified.checked / verifySeconds;

    const actor = { kind: 'user' as const, tenantId, id: 'bench', ip: null };
    const at = (fraction: number) => Math.round(start + fraction * total * 2500);
    const kinds: Record<string, (i: number) => Partial<SearchQuery>> = {
      actorId: (i) => ({ actorId: `user-${(i * 37) % ACTORS}` }),
      action: (i) => ({ action: actions[(i * 5) % actions.length] }),
      'action prefix': (i) => ({ action: ['credential.*', 'auth.*', 'access_request.*', 'user.*'][i % 4] }),
      category: (i) => ({ category: (['auth', 'vault', 'access', 'identity'] as const)[i % 4] }),
      targetId: (i) => ({ targetId: `cred-${(i * 101) % TARGETS}` }),
      'outcome=failure': () => ({ outcome: 'failure' }),
      sourceIp: (i) => ({ sourceIp: `10.1.0.${(i * 3) % IPS}` }),
      'minSeverity=8': () => ({ minSeverity: 8 }),
      'time range': (i) => ({ from: at((i % 10) / 10), to: at((i % 10) / 10 + 0.05) }),
      'actor + category + time': (i) => ({ actorId: `user-${(i * 7) % ACTORS}`, category: 'vault', from: at(0.2), to: at(0.9) }),
      'cursor page 3': (i) => ({ actorId: `user-${(i * 11) % ACTORS}` }),
    };
    const rounds = options.rounds ?? 30;
    const all: number[] = [];
    const perKind: Record<string, number> = {};
    for (const [kind, filterOf] of Object.entries(kinds)) {
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const query = { limit: 50, ...filterOf(i) } as SearchQuery;
        const started = performance.now();
        let page = await runtime.services.auditTrail.search(actor, query);
        if (kind === 'cursor page 3') for (let p = 0; p < 2 && page.nextCursor; p++) page = await runtime.services.auditTrail.search(actor, { ...query, cursor: page.nextCursor });
        times.push((performance.now() - started) / (kind === 'cursor page 3' ? 3 : 1));
      }
      times.sort((a, b) => a - b);
      perKind[kind] = percentile(times, 95);
      all.push(...times);
    }
    all.sort((a, b) => a - b);
    const freeText = performance.now();
    await runtime.services.auditTrail.search(actor, { limit: 50, q: 'ticket 9999' } as SearchQuery);
    const freeTextMs = performance.now() - freeText;
    const p95 = percentile(all, 95);
    return {
      lines: [
        `audit trail (${database}): ${total.toLocaleString('en')} events seeded in ${seedSeconds.toFixed(1)} s`,
        `  audit verify: ${Math.round(verifyRate).toLocaleString('en')} events/s (${verified.checked.toLocaleString('en')} in ${verifySeconds.toFixed(2)} s; budget >= 200,000)`,
        `  filtered search page (limit 50): p95 ${p95.toFixed(1)} ms over ${all.length} pages (budget <= 50); per filter p95: ${Object.entries(perKind).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`,
        `  free text q (not indexed, scans until 50 matches): ${freeTextMs.toFixed(0)} ms`,
      ],
      figures: { [`audit_verify_events_per_s_${database}`]: Math.round(verifyRate), [`audit_search_p95_ms_${database}`]: Math.round(p95 * 10) / 10 },
    };
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const database = databaseFromArgv();
  const eventsFlag = process.argv.indexOf('--events');
  const result = await benchAudit({ database, events: eventsFlag > 0 ? Number(process.argv[eventsFlag + 1]) : undefined });
  for (const line of result.lines) console.log(line);
}
