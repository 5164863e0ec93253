// Row types of the vault's tables (devices, credentials, credential and access policies, custody), split from schema.ts by use.

/** A device the tenant manages (migration 0012): where it is reached, what it is, how critical. */
export interface DeviceTable {
  tenant_id: string;
  id: string;
  name: string;
  address: string;
  port: number;
  protocol: string;
  type: string | null;
  vendor: string | null;
  model: string | null;
  site: string | null;
  criticality: 'low' | 'medium' | 'high';
  status: 'active' | 'inactive';
  description: string | null;
  /** The connector the device is reached through (migration 0026); null or absent: reached directly. */
  connector_id?: string | null;
  created_at: number;
  updated_at: number;
}

/** Every protocol a device speaks, with its port (the device's main protocol is among them). */
export interface DeviceProtocolTable {
  tenant_id: string;
  device_id: string;
  protocol: string;
  port: number;
}

export interface DeviceTagTable {
  tenant_id: string;
  device_id: string;
  tag: string;
}

/**
 * A privileged account on a device (migration 0012). Its secret (password, private key or API key), an ssh
 * key's passphrase and a TOTP seed are sealed with the tenant key; `version` is the current secret's version.
 */
export interface CredentialTable {
  tenant_id: string;
  id: string;
  device_id: string;
  username: string;
  type: 'password' | 'ssh-key' | 'api-key';
  version: number;
  secret_sealed: string | null;
  passphrase_sealed: string | null;
  totp_sealed: string | null;
  owner_id: string | null;
  notes: string | null;
  /** JSON object of extra facts, such as a database name. */
  additional_info: string;
  status: 'active' | 'inactive';
  /** 0/1: a policy or an event (reveal, check-in, a leaver's custody) asks for the secret to be rotated. */
  needs_rotation: number;
  secret_changed_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Every secret a credential has had, sealed; the current one is also on the credential. */
export interface CredentialVersionTable {
  tenant_id: string;
  credential_id: string;
  version: number;
  secret_sealed: string | null;
  passphrase_sealed: string | null;
  reason: string;
  created_by: string;
  created_at: number;
}

export interface CredentialTagTable {
  tenant_id: string;
  credential_id: string;
  tag: string;
}

/** Strength, age and rotation rules, matched to credentials by device and credential attributes (JSON). */
export interface CredentialPolicyTable {
  tenant_id: string;
  id: string;
  name: string;
  priority: number;
  filters: string;
  rules: string;
  created_at: number;
  updated_at: number;
}

/** An access policy (migration 0013): which credentials (filters, JSON) and how each action is granted (actions, JSON). */
export interface AccessPolicyTable {
  tenant_id: string;
  id: string;
  name: string;
  description: string | null;
  /** 0/1: a disabled policy grants nothing. */
  enabled: number;
  filters: string;
  /** JSON per action (reveal, session, history); approvers of approval levels live in access_policy_subjects. */
  actions: string;
  created_at: number;
  updated_at: number;
}

/** A user or group an access policy names: a member, or an approver of one level (1-3) of one action (members: action '', level 0). */
export interface AccessPolicySubjectTable {
  tenant_id: string;
  policy_id: string;
  relation: 'member' | 'approver';
  action: string;
  level: number;
  subject_type: 'user' | 'group';
  subject_id: string;
}

/** Bumped with every access-policy change of a tenant: each node's compiled-policy cache compares it. */
export interface AccessPolicyRevisionTable {
  tenant_id: string;
  revision: number;
}

/**
 * A credential's custody (checkout): who holds it until when. active_credential_id is the credential id while the
 * lease is active and NULL once checked in; UNIQUE (tenant_id, active_credential_id) makes a checkout exclusive.
 */
export interface CredentialCheckoutTable {
  tenant_id: string;
  id: string;
  credential_id: string;
  user_id: string;
  active_credential_id: string | null;
  justification: string | null;
  request_id: string | null;
  checked_out_at: number;
  expires_at: number;
  checked_in_at: number | null;
  checked_in_by: string | null;
  /** Why it ended: returned (by the holder), forced (an administrator), expired (the lease ran out), deactivated (the holder left). */
  reason: 'returned' | 'forced' | 'expired' | 'deactivated' | null;
}
