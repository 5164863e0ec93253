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

/** A tenant's Ed25519 checkpoint key (migration 0019): the public half published, the private half sealed with the tenant key. */
export interface AuditCheckpointKeyTable {
  tenant_id: string;
  key_id: string;
  public_key_pem: string;
  private_key_sealed: string;
  created_at: number;
}

/** A signed statement "the chain head was #seq with this hash at this time" (migration 0019); kept outside the chain. */
export interface AuditCheckpointTable {
  tenant_id: string;
  seq: number;
  hash: string;
  signed_at: number;
  key_id: string;
  signature: string;
}

/** The checkpoint tables, merged into the database schema. */
export interface AuditCheckpointSchema {
  audit_checkpoint_keys: AuditCheckpointKeyTable;
  audit_checkpoints: AuditCheckpointTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const auditCheckpointTables = ['audit_checkpoint_keys', 'audit_checkpoints'] as const;
