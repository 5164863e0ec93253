import type { Actor } from '../actor.js';
import type { Clock } from '../clock.js';
import type { DbOrTx } from '../db/database.js';
import type { Keyring } from '../crypto/keyring.js';
import { newId } from '../ids.js';
import type { Insertable } from 'kysely';
import { prepareQuery } from '../db/prepared.js';
import type { AuditEventTable } from '../db/schema.js';
import { eventCatalogue, type AuditAction } from './catalogue.js';
import { GENESIS_HASH, eventHash, headMac } from './chain.js';
import { verifyChain, type VerifyResult } from './verify.js';

/** A detail value: plain data only, so an event never carries an object that might hide a secret. */
export type DetailValue = string | number | boolean | null | string[];

/** What a caller says happened; the log adds sequence, time, type and chain links. */
export interface AuditEntry {
  action: AuditAction;
  actor: Actor;
  outcome?: 'success' | 'failure';
  target?: { type: string; id: string };
  details?: Record<string, DetailValue>;
}

// A detail key that names a secret is a programming error: the value must never reach the log.
const secretKey = /(password|passphrase|secret|private.?key|^token$|^totp$|^code$)/i;

// Stored text is UTF-8, where a lone UTF-16 surrogate cannot exist: the database would replace it on write and the
// stored event would no longer match its hash. Details need nothing: JSON.stringify escapes lone surrogates.
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const storable = (value: string | null | undefined): string | null => (value == null ? null : value.replace(loneSurrogate, '\uFFFD'));

function checkDetails(details: Record<string, DetailValue>): void {
  for (const key of Object.keys(details)) {
    if (secretKey.test(key)) throw new Error(`audit detail "${key}" looks like a secret and is not allowed`);
  }
}

// The three statements of every append, compiled once (an append is on every hot path that changes anything).
const bumpHead = prepareQuery(2, (db: DbOrTx, now: number, scopeId: string) =>
  db.updateTable('audit_heads').set((eb) => ({ seq: eb('seq', '+', 1), updated_at: now })).where('tenant_id', '=', scopeId).returning(['seq', 'hash']),
);
const moveHead = prepareQuery(3, (db: DbOrTx, hash: string, mac: string, scopeId: string) => db.updateTable('audit_heads').set({ hash, mac }).where('tenant_id', '=', scopeId));
const eventColumns = ['tenant_id', 'seq', 'id', 'occurred_at', 'type_id', 'action', 'category', 'severity', 'outcome', 'actor_kind', 'actor_id', 'actor_ip', 'target_type', 'target_id', 'details', 'prev_hash', 'hash'] as const;
type EventRow = Insertable<AuditEventTable>;
const insertEvent = prepareQuery(eventColumns.length, (db: DbOrTx, ...values: unknown[]) =>
  db.insertInto('audit_events').values(Object.fromEntries(eventColumns.map((column, i) => [column, values[i]])) as EventRow),
);

/**
 * The tamper-evident audit log: append() writes an event inside the caller's transaction, chained to the
 * scope's previous event. Appends of different tenants touch different head rows and never wait on each other.
 */
export function createAuditLog(deps: { keyring: Keyring; clock: Clock }) {
  const macKey = (db: DbOrTx, scopeId: string) => deps.keyring.deriveKey(db, scopeId, 'audit-head');

  async function claimNextSeq(trx: DbOrTx, scopeId: string, now: number) {
    // The UPDATE takes the head row's lock first, so concurrent appends of one tenant queue here and nowhere else.
    const [head] = await bumpHead(trx, now, scopeId);
    if (head) return head;
    const mac = headMac(await macKey(trx, scopeId), scopeId, 0, GENESIS_HASH);
    await trx
      .insertInto('audit_heads')
      .values({ tenant_id: scopeId, seq: 0, hash: GENESIS_HASH, mac, updated_at: now })
      .onConflict((oc) => oc.column('tenant_id').doNothing())
      .execute();
    const [created] = await bumpHead(trx, now, scopeId);
    if (!created) throw new Error('audit head could not be created');
    return created;
  }

  /** Appends one event to the scope's chain in the caller's transaction; returns its sequence number. */
  async function append(trx: DbOrTx, scopeId: string, entry: AuditEntry): Promise<{ seq: number; id: string }> {
    const definition = eventCatalogue[entry.action];
    const details = entry.details ?? {};
    checkDetails(details);
    const now = deps.clock.now();
    const head = await claimNextSeq(trx, scopeId, now);
    const seq = Number(head.seq);
    const event = {
      tenant_id: scopeId,
      seq,
      id: newId(now),
      occurred_at: now,
      type_id: definition.id,
      action: entry.action,
      category: definition.category,
      severity: definition.severity,
      outcome: entry.outcome ?? 'success',
      actor_kind: entry.actor.kind,
      actor_id: storable(entry.actor.id),
      actor_ip: storable(entry.actor.ip),
      target_type: storable(entry.target?.type),
      target_id: storable(entry.target?.id),
      details: JSON.stringify(details),
      prev_hash: head.hash,
    } as const;
    const hash = eventHash(event);
    const row: EventRow = { ...event, hash };
    await insertEvent(trx, ...eventColumns.map((column) => row[column]));
    await moveHead(trx, hash, headMac(await macKey(trx, scopeId), scopeId, seq, hash), scopeId);
    return { seq, id: event.id };
  }

  /** Re-reads the scope's whole chain and names the first event that was altered, removed or reordered. */
  async function verify(db: DbOrTx, scopeId: string): Promise<VerifyResult> {
    return verifyChain(db, scopeId, await macKey(db, scopeId));
  }

  /** Removes a scope's chain (its tenant was deleted; the deletion is recorded in the system chain). */
  async function removeScope(trx: DbOrTx, scopeId: string): Promise<void> {
    await trx.deleteFrom('audit_events').where('tenant_id', '=', scopeId).execute();
    await trx.deleteFrom('audit_heads').where('tenant_id', '=', scopeId).execute();
  }

  return { append, verify, removeScope };
}
export type AuditLog = ReturnType<typeof createAuditLog>;
