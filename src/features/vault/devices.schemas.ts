import { isIP } from 'node:net';
import { z } from 'zod';

/** The protocols a device can speak: a closed list, so filters and connectors agree on the names. */
export const deviceProtocols = ['ssh', 'telnet', 'rdp', 'vnc', 'winrm', 'http', 'https', 'ldap', 'ldaps', 'postgres', 'mysql', 'mssql', 'oracle', 'mongodb', 'redis', 'snmp', 'ftp', 'smb'] as const;
export type DeviceProtocol = (typeof deviceProtocols)[number];

export const protocolField = z.enum(deviceProtocols, { error: `A protocol is one of: ${deviceProtocols.join(', ')}.` });
export const portField = z.number({ error: 'port must be a whole number from 1 to 65535' }).int('port must be a whole number from 1 to 65535').min(1, 'port must be a whole number from 1 to 65535').max(65535, 'port must be a whole number from 1 to 65535');

const hostnameLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower-cases a hostname, drops a trailing dot, and takes an IPv6 literal out of its brackets. */
function normaliseAddress(value: string): string {
  const bare = /^\[.*\]$/.test(value) ? value.slice(1, -1) : value;
  return isIP(bare) ? bare.toLowerCase() : bare.toLowerCase().replace(/\.$/, '');
}

/** True for an IPv4/IPv6 literal or an RFC 1123 hostname whose last label is not all digits (a mistyped IPv4). */
export function isAddress(value: string): boolean {
  if (isIP(value)) return true;
  const labels = value.split('.');
  return value.length <= 253 && labels.every((label) => hostnameLabel.test(label)) && !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

export const addressField = z
  .string()
  .trim()
  .min(1, 'address is a hostname or an IP address, such as db01.acme.internal or 10.0.4.12')
  .max(300)
  .overwrite(normaliseAddress)
  .refine(isAddress, 'address is a hostname (letters, digits, hyphens and dots) or an IPv4/IPv6 address, such as db01.acme.internal, 10.0.4.12 or fd00::12');

/** A tag: lower-case letters, digits and . _ : / - (no spaces or commas, so a list query can be comma-separated). */
export const tagField = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._:/-]*$/, 'A tag is letters, digits and . _ : / - (no spaces or commas), such as prod or pci-dss');

/** Up to 50 tags; repeats are dropped and the rest sorted, so equal sets compare equal. */
export const tagsField = z
  .array(tagField)
  .max(50, 'At most 50 tags.')
  .overwrite((tags) => [...new Set(tags)].sort());

/** A tag filter: `tag=a&tag=b` or `tag=a,b`; every tag named must be present. */
export const tagQuery = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')))
  .pipe(z.array(tagField).min(1).max(10, 'Filter by at most 10 tags.'));

/** A free-text label such as a type, vendor, model or site. */
export const labelField = z.string().trim().min(1).max(100);
const nameField = z.string().trim().min(1, 'A device needs a name, such as db01').max(200);
const descriptionField = z.string().trim().min(1).max(2000);
export const criticalityField = z.enum(['low', 'medium', 'high'], { error: 'criticality is low, medium or high' });
export const statusField = z.enum(['active', 'inactive'], { error: 'status is active or inactive' });

/** A protocol the device speaks besides (or including) its main one, with its port. */
export const protocolEntry = z.strictObject({ protocol: protocolField, port: portField });

/** The connector (GET /api/v1/connectors) the device is reached through; null: reached directly. */
const connectorIdField = z.string().max(64);

/** POST /api/v1/devices, and PUT /api/v1/devices/{id} (a full replacement: omitted fields take their defaults). */
export const createDeviceBody = z.strictObject({
  name: nameField,
  address: addressField,
  port: portField,
  protocol: protocolField,
  protocols: z.array(protocolEntry).max(20, 'At most 20 protocols.').optional(),
  type: labelField.optional(),
  vendor: labelField.optional(),
  model: labelField.optional(),
  site: labelField.optional(),
  tags: tagsField.optional(),
  criticality: criticalityField.optional(),
  status: statusField.optional(),
  description: descriptionField.optional(),
  connectorId: connectorIdField.nullable().optional(),
});
export type CreateDeviceInput = z.infer<typeof createDeviceBody>;

/** PATCH /api/v1/devices/{id}: at least one field; null removes an optional label; protocols and tags replace the sets. */
export const patchDeviceBody = z
  .strictObject({
    name: nameField.optional(),
    address: addressField.optional(),
    port: portField.optional(),
    protocol: protocolField.optional(),
    protocols: z.array(protocolEntry).max(20, 'At most 20 protocols.').optional(),
    type: labelField.nullable().optional(),
    vendor: labelField.nullable().optional(),
    model: labelField.nullable().optional(),
    site: labelField.nullable().optional(),
    tags: tagsField.optional(),
    criticality: criticalityField.optional(),
    status: statusField.optional(),
    description: descriptionField.nullable().optional(),
    connectorId: connectorIdField.nullable().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one field to change, such as {"site":"lisbon"}.');
export type PatchDeviceInput = z.infer<typeof patchDeviceBody>;

/** A cursor is the id of the last item of the previous page (ids are time-ordered UUIDv7). */
export const cursorField = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'cursor is the nextCursor of the previous page');
export const limitField = z.coerce.number().int().min(1).max(100).default(50);
export const searchField = z.string().trim().min(1).max(200);

/** GET /api/v1/devices query: search, a filter for every attribute, cursor pagination. */
export const listDevicesQuery = z.strictObject({
  q: searchField.optional(),
  protocol: protocolField.optional(),
  address: addressField.optional(),
  type: labelField.optional(),
  vendor: labelField.optional(),
  model: labelField.optional(),
  site: labelField.optional(),
  tag: tagQuery.optional(),
  criticality: criticalityField.optional(),
  status: statusField.optional(),
  cursor: cursorField.optional(),
  limit: limitField,
});
export type ListDevicesQuery = z.infer<typeof listDevicesQuery>;

export const deviceParams = z.strictObject({ id: z.string().max(64) });

/** A device as the tenant sees it. */
export const deviceView = z.object({
  id: z.string(),
  name: z.string(),
  address: z.string(),
  port: z.number(),
  protocol: z.string(),
  protocols: z.array(z.object({ protocol: z.string(), port: z.number() })),
  type: z.string().nullable(),
  vendor: z.string().nullable(),
  model: z.string().nullable(),
  site: z.string().nullable(),
  tags: z.array(z.string()),
  criticality: z.enum(['low', 'medium', 'high']),
  status: z.enum(['active', 'inactive']),
  description: z.string().nullable(),
  connectorId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DeviceView = z.infer<typeof deviceView>;
