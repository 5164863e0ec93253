import type { DbOrTx } from '../../platform/db/database.js';
import type { ClientCredentialGrantTable } from '../../platform/db/schema.clients.js';

/** A client's grants, credential ids and tags each sorted. */
export async function listGrants(db: DbOrTx, tenantId: string, clientId: string) {
  return db
    .selectFrom('client_credential_grants')
    .select(['kind', 'value'])
    .where('tenant_id', '=', tenantId)
    .where('client_id', '=', clientId)
    .orderBy('kind')
    .orderBy('value')
    .execute();
}

/** Replaces every grant of a client with these rows. */
export async function replaceGrants(db: DbOrTx, tenantId: string, clientId: string, rows: ClientCredentialGrantTable[]): Promise<void> {
  await db.deleteFrom('client_credential_grants').where('tenant_id', '=', tenantId).where('client_id', '=', clientId).execute();
  if (rows.length > 0) await db.insertInto('client_credential_grants').values(rows).execute();
}
