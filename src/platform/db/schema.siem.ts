// Row types of SIEM forwarding (migration 0020), apart so schema.ts stays under its size limit.

/** A place the tenant's audit events are forwarded to: syslog (udp/tcp/tls) at host:port, or an HTTPS webhook at url. */
export interface SiemDestinationTable {
  tenant_id: string;
  id: string;
  name: string;
  transport: 'udp' | 'tcp' | 'tls' | 'https';
  format: 'rfc5424' | 'cef' | 'leef' | 'json';
  host: string | null;
  port: number | null;
  url: string | null;
  /** JSON array of category names; empty means every category. */
  categories: string;
  min_severity: number;
  enabled: number;
  max_message_bytes: number;
  /** tcp and tls: RFC 6587 octet counting, or one message per line (receivers without octet counting). */
  framing: 'octet-counting' | 'newline';
  tls_ca_pem: string | null;
  tls_client_cert_pem: string | null;
  tls_client_key_sealed: string | null;
  tls_server_name: string | null;
  /** The webhook's HMAC secret, sealed. */
  secret_sealed: string | null;
  created_at: number;
  updated_at: number;
}

/** How far a destination has been delivered: the last audit seq it confirmed (or skipped), and its last failure. */
export interface SiemCursorTable {
  tenant_id: string;
  destination_id: string;
  last_seq: number;
  last_delivered_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
  /** Failed rounds since the last success: drives the backoff, and >0 means an outage is under way. */
  failures: number;
  updated_at: number;
}

/** The SIEM tables, merged into the database schema. */
export interface SiemSchema {
  siem_destinations: SiemDestinationTable;
  siem_cursors: SiemCursorTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const siemTables = ['siem_destinations', 'siem_cursors'] as const;
