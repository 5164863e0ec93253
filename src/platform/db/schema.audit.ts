// The audit log's tables (migration 0001): one chain of events per scope (a tenant, or the system), and its head.

/** One event of a scope's chain: hashed with the previous event's hash, so a change anywhere breaks the chain. */
export interface AuditEventTable {
  tenant_id: string;
  seq: number;
  id: string;
  occurred_at: number;
  type_id: number;
  action: string;
  category: string;
  severity: number;
  outcome: 'success' | 'failure';
  actor_kind: string;
  actor_id: string | null;
  actor_ip: string | null;
  target_type: string | null;
  target_id: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

/** The newest event of a scope: its sequence number and hash, MACed so a rewritten chain is caught. */
export interface AuditHeadTable {
  tenant_id: string;
  seq: number;
  hash: string;
  mac: string;
  updated_at: number;
}
