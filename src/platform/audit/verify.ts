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
// several times the hashing. The hash itself is always computed here, never trusted to the database, and a row whose
// rendered text does not hash to its stored hash is re-checked from its columns, so the verdict is exactly chain.ts's.
// SQLite's json_array is a JSON encoder like JSON.stringify. PostgreSQL's to_json costs twice a quoting of its own:
// `"`, `\` and newline escaped, as JSON.stringify escapes them. That quoting is injective and agrees with
// JSON.stringify on every string without other control characters; a string with one renders it raw, which no JSON
// text holds, so its row cannot hash right and takes the exact path. Equal hashes therefore still mean equal columns.
const sqliteCanonical = sql<string>`json_array('custos-audit-v1', tenant_id, seq, id, occurred_at, type_id, action, category, severity, outcome, actor_kind, actor_id, actor_ip, target_type, target_id, details, prev_hash)`;
const pgString = (column: string) => sql`coalesce('"' || replace(replace(${sql.ref(column)}, '\\', '\\\\'), '"', '\\"') || '"', 'null')`;
const pgCanonical = sql<string>`replace('["custos-audit-v1",' || ${pgString('tenant_id')} || ',' || seq::text || ',' || ${pgString('id')} || ',' || occurred_at::text || ',' || type_id::text || ',' || ${pgString('action')} || ',' || ${pgString('category')} || ',' || severity::text || ',' || ${pgString('outcome')} || ',' || ${pgString('actor_kind')} || ',' || ${pgString('actor_id')} || ',' || ${pgString('actor_ip')} || ',' || ${pgString('target_type')} || ',' || ${pgString('target_id')} || ',' || ${pgString('details')} || ',' || ${pgString('prev_hash')} || ']', E'\\n', '\\n')`;

/** The stored events with seq in [fromSeq, fromSeq + PAGE), in seq order; three columns, as each costs the driver per row. */
function pageFrom(db: DbOrTx, scopeId: string, fromSeq: number): Promise<PageRow[]> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return pgPageFrom(db, scopeId, fromSeq);
  return db.selectFrom('audit_events').select(['seq', 'hash', sqliteCanonical.as('canonical')]).where('tenant_id', '=', scopeId).where('seq', '>=', fromSeq).where('seq', '<', fromSeq + PAGE).orderBy('seq').execute();
}

// node-postgres spends more per row than hashing costs, so PostgreSQL sends a page as one text value: a line per
// event, `seq hash canonical`. The canonical form holds no raw newline (it is escaped) and seq is digits; the page
// also says whether every hash is 64 characters and how many rows it holds, so a line whose hash could not be cut
// out exactly (a hash column rewritten to another length or to hold a newline) sends the page to be read again a
// row per event and judged as usual.
const pgPageText = sql<string | null>`pg_catalog.string_agg(seq::text || ' ' || hash || ' ' || ${pgCanonical}, E'\n' order by seq)`;

/** PostgreSQL's page a row per event: the slow, shape-proof reading. */
function pgRowsFrom(db: DbOrTx, scopeId: string, fromSeq: number): Promise<PageRow[]> {
  return db.selectFrom('audit_events').select(['seq', 'hash', pgCanonical.as('canonical')]).where('tenant_id', '=', scopeId).where('seq', '>=', fromSeq).where('seq', '<', fromSeq + PAGE).orderBy('seq').execute();
}

/** PostgreSQL's page, aggregated into one row and split back into events here. */
async function pgPageFrom(db: DbOrTx, scopeId: string, fromSeq: number): Promise<PageRow[]> {
  const page = await db.selectFrom('audit_events').select([pgPageText.as('text'), sql<string>`count(*)`.as('count'), sql<boolean>`bool_and(length(hash) = 64)`.as('exact')]).where('tenant_id', '=', scopeId).where('seq', '>=', fromSeq).where('seq', '<', fromSeq + PAGE).executeTakeFirst();
  const text = page?.text;
  if (!text) return [];
  if (!page.exact) return pgRowsFrom(db, scopeId, fromSeq);
  const rows: PageRow[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\n', at);
    const line = end === -1 ? text.slice(at) : text.slice(at, end);
    const space = line.indexOf(' ');
    if (line.charCodeAt(space + 65) !== 32) return pgRowsFrom(db, scopeId, fromSeq);
    rows.push({ seq: Number(line.slice(0, space)), hash: line.slice(space + 1, space + 65), canonical: line.slice(space + 66) });
    at = end === -1 ? text.length : end + 1;
  }
  return rows.length === Number(page.count) ? rows : pgRowsFrom(db, scopeId, fromSeq);
}

// A canonical form that hashes to its stored hash is JSON, so when it ends with `,"` + 64 characters + `"]` and those
// characters are the previous hash (always a verified hash, so hex, never escaped), the `"` after the comma opens the last element, which
// is the whole previous hash. Any other ending is read from the stored columns instead. Compared in place: a regex
// and a slice per row cost a fifth of the walk.
const COMMA = 44;
const QUOTE = 34;
const CLOSE = 93;

/** Whether a verified row's canonical form ends by linking to `prevHash`, in the plain shape. */
function linksTo(canonical: string, prevHash: string): boolean {
  const end = canonical.length;
  return canonical.charCodeAt(end - 1) === CLOSE && canonical.charCodeAt(end - 2) === QUOTE && canonical.charCodeAt(end - 67) === QUOTE && canonical.charCodeAt(end - 68) === COMMA && canonical.startsWith(prevHash, end - 66);
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
      // The fast path: the rendered form hashes right and links in the plain shape; anything else is judged exactly.
      if (sha256Hex(row.canonical) !== row.hash || !linksTo(row.canonical, prevHash)) {
        const stored = await storedEvent(db, scopeId, seq);
        if (!stored || eventHash(stored) !== row.hash) {
          return fail({ seq, eventId: stored?.id ?? null, reason: 'altered', message: `event #${seq} (${stored?.id}, ${stored?.action}) was altered: its content does not match its hash` });
        }
        if (stored.prev_hash !== prevHash) {
          return fail({ seq, eventId: stored.id, reason: 'reordered', message: `event #${seq} (${stored.id}, ${stored.action}) does not follow event #${seq - 1}: events were removed, inserted or reordered` });
        }
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
