/**
 * The shape of every table, as the migrations in src/migrations create it. Times are epoch milliseconds,
 * flags are 0/1 integers and structured values are JSON text, so one query runs on SQLite and PostgreSQL.
 */
export interface MetaTable {
  key: string;
  value: string;
}

export interface TenantTable {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  created_at: number;
  updated_at: number;
}

export interface TenantKeyTable {
  tenant_id: string;
  version: number;
  wrapped_key: string;
  status: 'active' | 'retired';
  created_at: number;
}

export interface UserTable {
  tenant_id: string;
  id: string;
  username: string;
  email: string;
  display_name: string | null;
  status: 'pending' | 'active' | 'inactive' | 'locked';
  password_hash: string | null;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  failed_logins: number;
  locked_until: number | null;
}

export interface UserRoleTable {
  tenant_id: string;
  user_id: string;
  role: string;
}

export interface ActivationTokenTable {
  tenant_id: string;
  id: string;
  user_id: string;
  token_hash: string;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

export interface SessionTable {
  tenant_id: string;
  id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  ip: string | null;
  /** The tenant's idle timeout when the session opened; null for sessions older than that setting. */
  idle_timeout_ms: number | null;
}

export interface TenantSettingTable {
  tenant_id: string;
  key: string;
  value: string;
  updated_at: number;
}

/** A row of focal_points (migration 0003); topics are a JSON array of topic names. */
export interface FocalPointTable {
  tenant_id: string;
  id: string;
  name: string;
  email: string;
  phone: string | null;
  topics: string;
  created_at: number;
  updated_at: number;
}

export interface MfaTotpTable {
  tenant_id: string;
  user_id: string;
  /** The TOTP secret, sealed with the tenant key (entity mfa_totp, id = user id, field secret). */
  secret_sealed: string;
  confirmed_at: number | null;
  /** The last 30-second step a code was accepted for: a code is never accepted twice. */
  last_step: number | null;
  created_at: number;
}

export interface MfaRecoveryCodeTable {
  tenant_id: string;
  user_id: string;
  code_hash: string;
  used_at: number | null;
}

export interface OperatorTokenTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

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

export interface AuditHeadTable {
  tenant_id: string;
  seq: number;
  hash: string;
  mac: string;
  updated_at: number;
}

export interface JobTable {
  id: string;
  tenant_id: string | null;
  kind: string;
  payload: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  attempts: number;
  max_attempts: number;
  run_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  last_error: string | null;
  unique_key: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

/** Every table Custos stores, keyed by table name. */
export interface Schema {
  custos_meta: MetaTable;
  tenants: TenantTable;
  tenant_keys: TenantKeyTable;
  users: UserTable;
  user_roles: UserRoleTable;
  activation_tokens: ActivationTokenTable;
  sessions: SessionTable;
  operator_tokens: OperatorTokenTable;
  audit_events: AuditEventTable;
  audit_heads: AuditHeadTable;
  jobs: JobTable;
  tenant_settings: TenantSettingTable;
  focal_points: FocalPointTable;
  mfa_totp: MfaTotpTable;
  mfa_recovery_codes: MfaRecoveryCodeTable;
}

/** Every table holding a tenant's rows (by a tenant_id column); deleting a tenant empties all of them. */
export const tenantOwnedTables = [
  'users',
  'user_roles',
  'activation_tokens',
  'sessions',
  'audit_events',
  'audit_heads',
  'jobs',
  'tenant_settings',
  'focal_points',
  'mfa_totp',
  'mfa_recovery_codes',
  'tenant_keys',
] as const satisfies readonly (keyof Schema)[];
