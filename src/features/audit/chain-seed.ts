import { eventCatalogue, type AuditAction } from '../../platform/audit/catalogue.js';
import { eventHash, headMac } from '../../platform/audit/chain.js';
import type { Keyring } from '../../platform/crypto/keyring.js';
import type { Db } from '../../platform/db/database.js';
import type { AuditEventTable } from '../../platform/db/schema.audit.js';
import { newId } from '../../platform/ids.js';

/** What one seeded event says; the seeder adds seq, time, ids and the chain links. */
export interface SeedEvent { action: AuditAction; actorId: string; actorIp?: string | null; outcome?: 'success' | 'failure'; target?: { type: string; id: string } | null; details?: Record<string, unknown> }

/**
 * Appends `count` correctly chained events to a scope's chain in big multi-row INSERTs, one transaction per
 * batch, then moves the MACed head: what append() would have written, at a fraction of its cost. For tests
 * and benchmarks that need a long chain (a million events); never used by the server.
 */
export async function seedChain(deps: { db: Db; keyring: Keyring }, scopeId: string, count: number, eventOf: (n: number) => SeedEvent, options: { startAt?: number; stepMs?: number; batch?: number } = {}): Promise<{ headSeq: number }> {
  const { db, keyring } = deps;
  const head = await db.selectFrom('audit_heads').select(['seq', 'hash']).where('tenant_id', '=', scopeId).executeTakeFirst();
  let seq = Number(head?.seq ?? 0);
  let prevHash = head?.hash ?? '0'.repeat(64);
  let time = options.startAt ?? Date.now();
  // 17 columns per row: SQLite allows 32766 parameters per statement, so 1000 rows per INSERT.
  const rowsPerInsert = 1000;
  const batch = options.batch ?? 20_000;
  for (let done = 0; done < count;) {
    const size = Math.min(batch, count - done);
    const rows: AuditEventTable[] = [];
    for (let i = 0; i < size; i++) {
      const e = eventOf(done + i);
      const definition = eventCatalogue[e.action];
      seq += 1;
      time += options.stepMs ?? 1;
      const row = {
        tenant_id: scopeId, seq, id: newId(time), occurred_at: time, type_id: definition.id, action: e.action, category: definition.category, severity: definition.severity,
        outcome: e.outcome ?? 'success', actor_kind: 'user', actor_id: e.actorId, actor_ip: e.actorIp ?? null, target_type: e.target?.type ?? null, target_id: e.target?.id ?? null,
        details: JSON.stringify(e.details ?? {}), prev_hash: prevHash,
      } as const;
      prevHash = eventHash(row);
      rows.push({ ...row, hash: prevHash });
    }
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += rowsPerInsert) await trx.insertInto('audit_events').values(rows.slice(i, i + rowsPerInsert)).execute();
    });
    done += size;
  }
  const mac = headMac(await keyring.deriveKey(db, scopeId, 'audit-head'), scopeId, seq, prevHash);
  if (head) await db.updateTable('audit_heads').set({ seq, hash: prevHash, mac, updated_at: time }).where('tenant_id', '=', scopeId).execute();
  else await db.insertInto('audit_heads').values({ tenant_id: scopeId, seq, hash: prevHash, mac, updated_at: time }).execute();
  return { headSeq: seq };
}
