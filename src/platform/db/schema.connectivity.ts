// Row types of connectivity checks (migration 0023), apart so schema.ts stays under its size limit.

/** What a check found: ok; degraded (reached, but the handshake or the login failed); unreachable; refused by the target guard. */
export type ConnectivityStatus = 'ok' | 'degraded' | 'unreachable' | 'refused';

/** One check of one device, kept as history (the newest 100 per device). */
export interface ConnectivityCheckTable {
  tenant_id: string;
  id: string;
  device_id: string;
  status: ConnectivityStatus;
  /** Milliseconds until the TCP connection opened; null when it never did. */
  latency_ms: number | null;
  /** A stable code for what failed (TARGET_TIMEOUT, CONNECTIVITY_AUTH_FAILED...); null when ok. */
  code: string | null;
  message: string;
  trigger: 'scheduled' | 'manual';
  checked_at: number;
}

/** A device's latest check, and since when its status has held (what transitions are judged against). */
export interface ConnectivityStateTable {
  tenant_id: string;
  device_id: string;
  status: ConnectivityStatus;
  latency_ms: number | null;
  code: string | null;
  message: string;
  checked_at: number;
  since: number;
}

/** The connectivity tables, merged into the database schema. */
export interface ConnectivitySchema {
  connectivity_checks: ConnectivityCheckTable;
  connectivity_state: ConnectivityStateTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const connectivityTables = ['connectivity_checks', 'connectivity_state'] as const;
