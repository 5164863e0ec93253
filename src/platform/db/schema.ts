import type { SessionRestriction } from '../actor.js';
import type { DeviceTable, DeviceProtocolTable, DeviceTagTable, CredentialTable, CredentialVersionTable, CredentialTagTable, CredentialPolicyTable, AccessPolicyTable, AccessPolicySubjectTable, AccessPolicyRevisionTable, CredentialCheckoutTable } from './schema.vault.js';
export type { DeviceTable, DeviceProtocolTable, DeviceTagTable, CredentialTable, CredentialVersionTable, CredentialTagTable, CredentialPolicyTable, AccessPolicyTable, AccessPolicySubjectTable, AccessPolicyRevisionTable, CredentialCheckoutTable } from './schema.vault.js';
import { accessRequestTables, type AccessRequestSchema } from './schema.access.js';
import { notificationTables, type NotificationSchema } from './schema.notifications.js';
import { clientGrantTables, type ClientGrantSchema } from './schema.clients.js';
import { siemTables, type SiemSchema } from './schema.siem.js';
import { complianceTables, type ComplianceSchema } from './schema.compliance.js';
import { behaviourTables, type BehaviourSchema } from './schema.behaviour.js';
import { connectorTables, type ConnectorSchema } from './schema.connectors.js';
import { rotationTables, type RotationSchema } from './schema.rotation.js';
import { connectivityTables, type ConnectivitySchema } from './schema.connectivity.js';
import { auditCheckpointTables, type AuditEventTable, type AuditHeadTable, type AuditCheckpointSchema } from './schema.audit.js';
export type { AuditEventTable, AuditHeadTable } from './schema.audit.js';
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
  /** When the password was last set (migration 0007); null while none is set. Password age counts from it. */
  password_changed_at: number | null;
  /** The identity provider's id of the user when SCIM manages it (migration 0008; optional: rows written before it lack it). */
  external_id?: string | null;
  /** The name parts SCIM sends (migration 0008), kept so the identity provider reads back what it wrote. */
  given_name?: string | null;
  family_name?: string | null;
  /** Why an inactive user was deactivated (migration 0011): deactivated, deleted, scim, inactivity...; null otherwise. */
  deactivation_reason?: string | null;
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
  /** What the session must do before anything else works (migration 0007); null for a normal session. */
  restriction: SessionRestriction | null;
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

/** A tenant's group (migration 0005); external_id is the identity provider's id when SCIM or SSO manages it. */
export interface GroupTable {
  tenant_id: string;
  id: string;
  name: string;
  description: string | null;
  external_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface GroupMemberTable {
  tenant_id: string;
  group_id: string;
  user_id: string;
}

/** A role a group confers on each of its members (a built-in or a custom role name). */
export interface GroupRoleTable {
  tenant_id: string;
  group_id: string;
  role: string;
}

/** A tenant-defined role: a name and a JSON array of catalogue permissions. */
export interface CustomRoleTable {
  tenant_id: string;
  id: string;
  name: string;
  description: string | null;
  permissions: string;
  created_at: number;
  updated_at: number;
}

/** A change granting administration (four-eyes) that waits for a second administrator; change is JSON. */
export interface RoleGrantTable {
  tenant_id: string;
  id: string;
  subject_type: 'user' | 'group' | 'role';
  subject_id: string;
  change: string;
  status: 'pending' | 'approved' | 'denied' | 'cancelled';
  requested_by: string;
  requested_at: number;
  decided_by: string | null;
  decided_at: number | null;
  comment: string | null;
}

/** A password a user had before the current one (argon2id hash), kept to refuse its reuse (migration 0007). */
export interface PasswordHistoryTable {
  tenant_id: string;
  user_id: string;
  id: string;
  password_hash: string;
  created_at: number;
}

/** An API client (migration 0006): an application that gets bearer tokens with the client credentials grant. */
export interface ApiClientTable {
  tenant_id: string;
  id: string;
  /** The public identifier (cci_...), unique across the installation: a token request finds its tenant by it. */
  client_id: string;
  name: string;
  /** JSON array of catalogue permissions the client may hold. */
  scopes: string;
  /** JSON array of IPv4/IPv6 ranges; empty: any address the tenant allows. */
  allowed_cidrs: string;
  expires_at: number | null;
  status: 'active' | 'inactive';
  /** SHA-256 of the client secret; the secret itself is shown once and never stored. */
  secret_hash: string;
  secret_rotated_at: number;
  created_by: string;
  created_at: number;
  updated_at: number;
  last_token_at: number | null;
}

/** An access token issued to an API client (cct_..., stored as SHA-256); client_id is the client's row id. */
export interface ClientTokenTable {
  tenant_id: string;
  id: string;
  client_id: string;
  token_hash: string;
  /** JSON array of the scopes granted to this token. */
  scopes: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  ip: string | null;
}

/** A signal for other processes on the same SQLite file (see platform/signals); seq numbers them in commit order. */
export interface SignalTable {
  seq: number;
  kind: string;
  payload: string;
  created_at: number;
}

/** A tenant's SCIM provisioning token (migration 0008, csp_...): only its SHA-256; at most one per tenant. */
export interface ScimTokenTable {
  tenant_id: string;
  id: string;
  token_hash: string;
  created_by: string;
  created_at: number;
  last_used_at: number | null;
}

/** An SSO login in flight (migration 0009): single use, 10 minutes; the state and browser binding stored as SHA-256. */
export interface SsoLoginTable {
  tenant_id: string;
  id: string;
  state_hash: string;
  /** SHA-256 of the custos_sso cookie of the browser that started the login: another browser cannot finish it. */
  browser_hash: string;
  nonce: string;
  /** The PKCE code verifier (S256); useless without the authorization code, and deleted with the row. */
  code_verifier: string;
  return_to: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** An identity provider's subject linked to a tenant user (migration 0009): later logins find the user by it. */
export interface SsoLinkTable {
  tenant_id: string;
  issuer: string;
  subject: string;
  user_id: string;
  created_at: number;
  last_login_at: number | null;
}

export interface OperatorTokenTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
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
export interface Schema extends AccessRequestSchema, ClientGrantSchema, NotificationSchema, SiemSchema, AuditCheckpointSchema, ComplianceSchema, BehaviourSchema, ConnectorSchema, RotationSchema, ConnectivitySchema {
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
  password_history: PasswordHistoryTable;
  groups: GroupTable;
  group_members: GroupMemberTable;
  group_roles: GroupRoleTable;
  custom_roles: CustomRoleTable;
  role_grants: RoleGrantTable;
  signals: SignalTable;
  api_clients: ApiClientTable;
  client_tokens: ClientTokenTable;
  sso_logins: SsoLoginTable;
  sso_links: SsoLinkTable;
  scim_tokens: ScimTokenTable;
  devices: DeviceTable;
  device_protocols: DeviceProtocolTable;
  device_tags: DeviceTagTable;
  credentials: CredentialTable;
  credential_versions: CredentialVersionTable;
  credential_tags: CredentialTagTable;
  credential_policies: CredentialPolicyTable;
  access_policies: AccessPolicyTable;
  access_policy_subjects: AccessPolicySubjectTable;
  access_policy_revisions: AccessPolicyRevisionTable;
  credential_checkouts: CredentialCheckoutTable;
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
  'password_history',
  'groups',
  'group_members',
  'group_roles',
  'custom_roles',
  'role_grants',
  'api_clients',
  'client_tokens',
  'sso_logins',
  'sso_links',
  'scim_tokens',
  'devices',
  'device_protocols',
  'device_tags',
  'credentials',
  'credential_versions',
  'credential_tags',
  'credential_policies',
  'access_policies',
  'access_policy_subjects',
  'access_policy_revisions',
  'credential_checkouts',
  ...accessRequestTables, ...clientGrantTables, ...notificationTables, ...siemTables, ...auditCheckpointTables, ...complianceTables, ...behaviourTables, ...connectorTables, ...rotationTables, ...connectivityTables,
  'tenant_keys',
] as const satisfies readonly (keyof Schema)[];
