import { z } from 'zod';

const nameField = z.string().trim().min(1, 'A connector needs a name, such as lisbon-dc-1').max(200);
/** Connectors with the same site stand in for each other: one carries the traffic, the others wait. */
const siteField = z.string().trim().min(1, 'site names where the connector runs, such as lisbon; connectors of one site stand in for each other').max(100);

/** POST /api/v1/connectors */
export const createConnectorBody = z.strictObject({ name: nameField, site: siteField });
export type CreateConnectorInput = z.infer<typeof createConnectorBody>;

/** GET /api/v1/connectors query. */
export const listConnectorsQuery = z.strictObject({ site: siteField.optional() });
export type ListConnectorsQuery = z.infer<typeof listConnectorsQuery>;

export const connectorParams = z.strictObject({ id: z.string().max(64) });

/**
 * What a connector is doing as seen from this node: active (carries its site's connections), passive (connected,
 * standing by), connected (its last sign of life is recent but it is held by another node), offline, revoked.
 */
export const connectorStatus = z.enum(['active', 'passive', 'connected', 'offline', 'revoked']);
export type ConnectorStatus = z.infer<typeof connectorStatus>;

/** A connector as the tenant sees it: never its token or the token's hash. */
export const connectorView = z.object({
  id: z.string(),
  name: z.string(),
  site: z.string(),
  status: connectorStatus,
  connected: z.boolean(),
  lastSeenAt: z.string().nullable(),
  connectedAt: z.string().nullable(),
  lastAddress: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type ConnectorView = z.infer<typeof connectorView>;

/** Creation answers the token, the only time it is ever shown. */
export const connectorWithToken = z.object({ connector: connectorView, token: z.string() });
