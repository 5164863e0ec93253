// Row types of password and key rotation (migration 0024), apart so schema.ts stays under its size limit.

/** Why a rotation was asked for. */
export type RotationTrigger = 'manual' | 'max-age' | 'after-reveal' | 'after-checkin' | 'window-end' | 'reconcile';
/** Where a rotation stands; succeeded, failed and cancelled are final. */
export type RotationState = 'scheduled' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * One rotation of one credential. The next secret is sealed into pending_* and committed before the target is
 * touched, so a crash at any step leaves both the current and the next secret in the vault to settle with.
 */
export interface RotationTable {
  tenant_id: string;
  id: string;
  credential_id: string;
  device_id: string;
  trigger: RotationTrigger;
  state: RotationState;
  /** The last step reached: none, pending-committed, target-changed, verified, promoted. */
  step: string;
  attempts: number;
  /** Stable code and safe message of the last failure; never a secret. */
  error_code: string | null;
  error_message: string | null;
  pending_secret_sealed: string | null;
  pending_passphrase_sealed: string | null;
  /** The credential version the rotation started from, and the one it produced. */
  from_version: number | null;
  to_version: number | null;
  job_id: string | null;
  requested_by: string;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

/** The heartbeat's last word on a credential: whether its stored secret still logs in to its target. */
export interface CredentialHeartbeatTable {
  tenant_id: string;
  credential_id: string;
  status: 'ok' | 'out_of_sync' | 'unreachable';
  error_code: string | null;
  checked_at: number;
  /** When the status last changed. */
  changed_at: number;
}

/** The rotation tables, merged into the database schema. */
export interface RotationSchema {
  rotations: RotationTable;
  credential_heartbeats: CredentialHeartbeatTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const rotationTables = ['rotations', 'credential_heartbeats'] as const;
