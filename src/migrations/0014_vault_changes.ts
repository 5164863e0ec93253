import type { Kysely } from 'kysely';

/**
 * Indexes for the vault's list filters, so a page of credentials stays an index walk at 100,000 credentials:
 * by owner (also what deleting a user clears), status, the rotation flag, and devices by protocol.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('credentials_owner_idx').on('credentials').columns(['tenant_id', 'owner_id', 'id']).execute();
  await db.schema.createIndex('credentials_status_idx').on('credentials').columns(['tenant_id', 'status', 'id']).execute();
  await db.schema.createIndex('credentials_rotation_idx').on('credentials').columns(['tenant_id', 'needs_rotation', 'id']).execute();
  await db.schema.createIndex('device_protocols_protocol_idx').on('device_protocols').columns(['tenant_id', 'protocol', 'device_id']).execute();
}
