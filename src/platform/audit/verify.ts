import type { DbOrTx } from '../db/database.js';
import { GENESIS_HASH, eventHash, headMac, macMatches } from './chain.js';

/** The outcome of a chain check; when not ok, `problem` names the first bad event and why. */
export interface VerifyResult {
  ok: boolean;
  checked: number;
  headSeq: number;
  problem?: { seq: number; eventId: string | null; reason: 'altered' | 'missing' | 'reordered' | 'truncated' | 'head_forged'; message: string };
}

const PAGE = 1000;

/** Walks the chain in sequence order, recomputing every hash and link, then checks the head and its MAC. */
export async function verifyChain(db: DbOrTx, scopeId: string, macKey: Buffer): Promise<VerifyResult> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const fail = (problem: NonNullable<VerifyResult['problem']>): VerifyResult => ({ ok: false, checked, headSeq: expectedSeq - 1, problem });

  for (;;) {
    const rows = await db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', scopeId)
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        return fail({ seq: expectedSeq, eventId: null, reason: 'missing', message: `event #${expectedSeq} is missing (next stored event is #${seq})` });
      }
      const { hash, ...rest } = row;
      if (eventHash(rest) !== hash) {
        return fail({ seq, eventId: row.id, reason: 'altered', message: `event #${seq} (${row.id}, ${row.action}) was altered: its content does not match its hash` });
      }
      if (row.prev_hash !== prevHash) {
        return fail({ seq, eventId: row.id, reason: 'reordered', message: `event #${seq} (${row.id}, ${row.action}) does not follow event #${seq - 1}: events were removed, inserted or reordered` });
      }
      prevHash = hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (rows.length < PAGE) break;
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
