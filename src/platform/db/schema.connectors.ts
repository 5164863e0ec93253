// Row types of network connectors (migration 0026), apart so schema.ts stays under its size limit.

/** A tenant's connector: an agent in its network that dials out to the vault; only the token's hash is kept. */
export interface ConnectorTable {
  tenant_id: string;
  id: string;
  name: string;
  /** Connectors of one site stand in for each other (active/passive). */
  site: string;
  token_hash: string;
  created_by: string;
  created_at: number;
  revoked_at: number | null;
  /** The last connection's start and end, and the last sign of life (refreshed while connected). */
  connected_at: number | null;
  disconnected_at: number | null;
  last_seen_at: number | null;
  last_address: string | null;
}

/** The connector tables, merged into the database schema. */
export interface ConnectorSchema {
  connectors: ConnectorTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const connectorTables = ['connectors'] as const;
