import { SqliteAdapter, sql } from 'kysely';
import type { DbOrTx } from '../db/database.js';
import { GENESIS_HASH, eventHash, headMac, macMatches, sha256Hex } from './chain.js';

/** The outcome of a chain check; when not ok, `problem` names the first bad event and why. */
export interface VerifyResult {
  ok: boolean;
  checked: number;
  headSeq: number;
  problem?: { seq: number; eventId: string | null; reason: 'altered' | 'missing' | 'reordered' | 'truncated' | 'head_forged'; message: string };
}

// Big pages of consecutive seqs, the next ones already in flight while this one is hashed.
const PAGE = 5000;

/** What the walk needs of an event: its hash and its canonical form (which ends with the previous hash). */
interface PageRow { seq: number; hash: string; canonical: string }

// The database renders the canonical form (chain.ts) itself: building a JS object of 17 columns per row costs
// several times the hashing. json_array and to_json are JSON encoders like JSON.stringify, so equal text means
// equal content; a row whose rendered text does not hash to its stored hash is re-checked from its columns, so
// the verdict is exactly chain.ts's. The hash itself is always computed here, never trusted to the database.
const sqliteCanonical = sql<string>`json_array('custos-audit-v1', tenant_id, seq, id, occurred_at, type_id, action, category, severity, outcome, actor_kind, actor_id, actor_ip, target_type, target_id, details, prev_hash)`;
const pgJson = (column: string) => sql`coalesce(pg_catalog.to_json(${sql.ref(column)}), 'null'::json)`;
const pgCanonical = sql<string>`pg_catalog.concat('["custos-audit-v1",', ${pgJson('tenant_id')}, ',', seq, ',', ${pgJson('id')}, ',', occurred_at, ',', type_id, ',', ${pgJson('action')}, ',', ${pgJson('category')}, ',', severity, ',', ${pgJson('outcome')}, ',', ${pgJson('actor_kind')}, ',', ${pgJson('actor_id')}, ',', ${pgJson('actor_ip')}, ',', ${pgJson('target_type')}, ',', ${pgJson('target_id')}, ',', ${pgJson('details')}, ',', ${pgJson('prev_hash')}, ']')`;

/** The stored events with seq in [fromSeq, fromSeq + PAGE), in seq order; three columns, as each costs the driver per row. */
function pageFrom(db: DbOrTx, scopeId: string, fromSeq: number): Promise<PageRow[]> {
  const canonical = db.getExecutor().adapter instanceof SqliteAdapter ? sqliteCanonical : pgCanonical;
  return db.selectFrom('audit_events').select(['seq', 'hash', canonical.as('canonical')]).where('tenant_id', '=', scopeId).where('seq', '>=', fromSeq).where('seq', '<', fromSeq + PAGE).orderBy('seq').execute();
}

// A canonical form that hashes to its stored hash ends with `,"<previous hash>"]`: inside a JSON string a quote is
// escaped, so `,"` opens the last element, and a 64-digit element is the whole previous hash. Anything else
// (a hash of another length) is read from the stored columns instead.
const PREV_TAIL = /,"([0-9a-f]{64})"\]$/;

/** The previous hash a verified row links to, from its canonical form when it has the plain shape. */
function linkOf(row: PageRow): string | null {
  return PREV_TAIL.exec(row.canonical.slice(-69))?.[1] ?? null;
}

/** The stored columns of one event: for the exact check and to name an event in a verdict. */
function storedEvent(db: DbOrTx, scopeId: string, seq: number) {
  return db.selectFrom('audit_events').selectAll().where('tenant_id', '=', scopeId).where('seq', '=', seq).executeTakeFirst();
}

/** Walks the chain in sequence order, recomputing every hash and link, then checks the head and its MAC. */
export async function verifyChain(db: DbOrTx, scopeId: string, macKey: Buffer): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const fail = (problem: NonNullable<VerifyResult['problem']>): VerifyResult => ({ ok: false, checked, headSeq: expectedSeq - 1, problem });

  // Pages are seq ranges, so several can be in flight at once (PostgreSQL renders them on other connections
  // while this one hashes); SQLite answers synchronously, so one ahead is enough there.
  const depth = db.getExecutor().adapter instanceof SqliteAdapter ? 1 : 3;
  const inFlight: { from: number; rows: Promise<PageRow[]> }[] = [];
  let nextFrom = 1;
  const fetchNext = () => {
    const rows = pageFrom(db, scopeId, nextFrom);
    // A failure found in an earlier page returns before this one is awaited; its error must not go unhandled.
    rows.catch(() => undefined);
    inFlight.push({ from: nextFrom, rows });
    nextFrom += PAGE;
  };
  for (let i = 0; i < depth; i++) fetchNext();
  for (;;) {
    const page = inFlight.shift()!;
    const rows = await page.rows;
    if (rows.length === 0) {
      // An empty range ends the chain, unless a whole page of events was removed and later ones remain.
      const later = await db.selectFrom('audit_events').select('seq').where('tenant_id', '=', scopeId).where('seq', '>=', page.from).orderBy('seq').limit(1).executeTakeFirst();
      if (!later) break;
      return fail({ seq: expectedSeq, eventId: null, reason: 'missing', message: `event #${expectedSeq} is missing (next stored event is #${later.seq})` });
    }
    fetchNext();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        return fail({ seq: expectedSeq, eventId: null, reason: 'missing', message: `event #${expectedSeq} is missing (next stored event is #${seq})` });
      }
      let link = sha256Hex(row.canonical) === row.hash ? linkOf(row) : null;
      if (link === null) {
        const stored = await storedEvent(db, scopeId, seq);
        if (!stored || eventHash(stored) !== row.hash) {
          return fail({ seq, eventId: stored?.id ?? null, reason: 'altered', message: `event #${seq} (${stored?.id}, ${stored?.action}) was altered: its content does not match its hash` });
        }
        link = stored.prev_hash;
      }
      if (link !== prevHash) {
        const stored = await storedEvent(db, scopeId, seq);
        return fail({ seq, eventId: stored?.id ?? null, reason: 'reordered', message: `event #${seq} (${stored?.id}, ${stored?.action}) does not follow event #${seq - 1}: events were removed, inserted or reordered` });
      }
      prevHash = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
  }

  const head = await db.selectFrom('audit_heads').selectAll().where('tenant_id', '=', scopeId).executeTakeFirst();
  const lastSeq = expectedSeq - 1;
  // Every scope writes an event when it is created, so a chain without a head was deleted, not empty.
  if (!head) return fail({ seq: lastSeq, eventId: null, reason: 'head_forged', message: 'the chain head record is missing: the chain was deleted or never existed' });
  if (!macMatches(headMac(macKey, scopeId, Number(head.seq), head.hash), head.mac)) {
    return fail({ seq: Number(head.seq), eventId: null, reason: 'head_forged', message: 'the chain head was rewritten outside Custos (its MAC does not match)' });
  }
  if (Number(head.seq) !== lastSeq || head.hash !== prevHash) {
    const seq = Math.min(Number(head.seq), lastSeq + 1);
    return fail({ seq, eventId: null, reason: 'truncated', message: `the chain ends at event #${lastSeq} but its head records #${head.seq}: events at the end were removed or replaced` });
  }
  return { ok: true, checked, headSeq: lastSeq };
}
