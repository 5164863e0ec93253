// Row types of the API clients' credential grants (migration 0018), apart so schema.ts stays within its limit.

/** One explicit grant of credentials to an API client: a credential id, or every credential carrying a tag. */
export interface ClientCredentialGrantTable {
  tenant_id: string;
  /** The api_clients row id (not the public cci_ client id). */
  client_id: string;
  kind: 'credential' | 'tag';
  value: string;
  created_at: number;
  created_by: string;
}

/** The API client grant tables, merged into the database schema. */
export interface ClientGrantSchema {
  client_credential_grants: ClientCredentialGrantTable;
}

/** Their names, for the list of tables that hold a tenant's rows. */
export const clientGrantTables = ['client_credential_grants'] as const;
