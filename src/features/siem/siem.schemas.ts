import { z } from 'zod';

/** How a destination is reached: syslog over udp, tcp or tls, or an https webhook. */
export const siemTransports = ['udp', 'tcp', 'tls', 'https'] as const;
/** How each event is written. */
export const siemFormats = ['rfc5424', 'cef', 'leef', 'json'] as const;
/** How tcp and tls separate messages: RFC 6587 octet counting, or a line feed after each. */
export const siemFramings = ['octet-counting', 'newline'] as const;
/** The catalogue's categories, which a destination may filter on. */
export const eventCategories = ['auth', 'identity', 'vault', 'access', 'rotation', 'connectivity', 'session', 'backup', 'behaviour', 'config', 'operator'] as const;

/** RFC 5426 says a receiver must accept 480 bytes and should accept 2048; larger datagrams risk fragmentation. */
export const DEFAULT_UDP_MAX_BYTES = 2048;
/** The byte limit of one message over TCP, TLS and HTTPS (rsyslog's default maxMessageSize is 8k; set it larger for long events). */
export const STREAM_MAX_BYTES = 64 * 1024;

const pem = (kind: string) => z.string().max(64 * 1024).regex(/-----BEGIN [A-Z0-9 ]+-----/, `${kind} must be PEM text (-----BEGIN ...-----)`);

/** TLS options of a tls or https destination; an absent caPem trusts the system CAs. */
const tlsOptions = z.strictObject({
  caPem: pem('tls.caPem').optional(),
  clientCertPem: pem('tls.clientCertPem').optional(),
  clientKeyPem: pem('tls.clientKeyPem').optional(),
  serverName: z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9.-]+$/, 'tls.serverName is a DNS name').optional(),
});
export type SiemTlsInput = z.infer<typeof tlsOptions>;

const host = z.string().trim().min(1).max(253).regex(/^[A-Za-z0-9.:-]+$/, 'host is a host name or an IP address, such as siem.acme.example');
const port = z.number({ error: 'port is a number from 1 to 65535' }).int().min(1, 'port is a number from 1 to 65535').max(65535, 'port is a number from 1 to 65535');
const name = z.string().trim().min(1).max(100).regex(/^[^\r\n]*$/, 'name must be one line');
const categories = z.array(z.enum(eventCategories, { error: `A category is one of: ${eventCategories.join(', ')}` })).max(eventCategories.length).overwrite((list) => eventCategories.filter((c) => list.includes(c)));
const minSeverity = z.number().int().min(1, 'minSeverity is 1 to 10').max(10, 'minSeverity is 1 to 10');
const maxMessageBytes = z.number().int().min(480, 'maxMessageBytes is 480 to 65000 (RFC 5426)').max(65000, 'maxMessageBytes is 480 to 65000 (RFC 5426)');
const webhookUrl = z.url({ protocol: /^https$/, error: 'url is an https:// URL' }).max(2048);
const secret = z.string().min(32, 'secret has at least 32 characters').max(256);

/** Rules that span fields: what each transport needs and what it must not be given. */
function checkTransport(body: { transport?: string; framing?: string | null; host?: string | null; port?: number | null; url?: string | null; tls?: SiemTlsInput | null; maxMessageBytes?: number | null; secret?: string | null }, ctx: z.RefinementCtx) {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (body.transport === 'https') {
    if (!body.url) issue('url', 'an https destination needs url');
    if (body.host != null || body.port != null) issue('host', 'an https destination takes url, not host and port');
    if (body.maxMessageBytes != null) issue('maxMessageBytes', 'maxMessageBytes is for udp destinations only');
    if (body.framing != null) issue('framing', 'framing is for tcp and tls destinations only');
  } else {
    if (body.url != null) issue('url', 'url is for https destinations only');
    if (body.secret != null) issue('secret', 'secret is for https destinations only');
    if (!body.host) issue('host', 'a syslog destination needs host');
    if (body.port == null) issue('port', 'a syslog destination needs port');
    if ((body.transport === 'udp' || body.transport === 'https') && body.framing != null) issue('framing', 'framing is for tcp and tls destinations only');
    if (body.transport !== 'udp' && body.maxMessageBytes != null) issue('maxMessageBytes', 'maxMessageBytes is for udp destinations only');
    if ((body.transport === 'udp' || body.transport === 'tcp') && body.tls != null) issue('tls', `tls options are for tls and https destinations, not ${body.transport}`);
  }
  if (body.tls?.clientCertPem && !body.tls.clientKeyPem) issue('tls', 'tls.clientCertPem needs tls.clientKeyPem');
  if (body.tls?.clientKeyPem && !body.tls.clientCertPem) issue('tls', 'tls.clientKeyPem needs tls.clientCertPem');
}

const destinationFields = {
  name,
  transport: z.enum(siemTransports, { error: `transport is one of: ${siemTransports.join(', ')}` }),
  format: z.enum(siemFormats, { error: `format is one of: ${siemFormats.join(', ')}` }),
  host: host.optional(),
  port: port.optional(),
  url: webhookUrl.optional(),
  categories: categories.optional(),
  minSeverity: minSeverity.optional(),
  enabled: z.boolean().optional(),
  maxMessageBytes: maxMessageBytes.optional(),
  framing: z.enum(siemFramings, { error: `framing is one of: ${siemFramings.join(', ')}` }).optional(),
  tls: tlsOptions.optional(),
  secret: secret.optional(),
};

/** POST /api/v1/siem/destinations */
export const createDestinationBody = z.strictObject({ ...destinationFields, startAt: z.enum(['now', 'beginning']).optional() }).superRefine(checkTransport);
export type CreateDestinationInput = z.infer<typeof createDestinationBody>;

/** PATCH /api/v1/siem/destinations/{id}: any field but the transport; tls replaces the TLS options (an omitted client key keeps the stored one for the same certificate). */
export const patchDestinationBody = z
  .strictObject({ name: name.optional(), format: destinationFields.format.optional(), host: host.optional(), port: port.optional(), url: webhookUrl.optional(), categories: categories.optional(), minSeverity: minSeverity.optional(), enabled: z.boolean().optional(), maxMessageBytes: maxMessageBytes.optional(), framing: destinationFields.framing, tls: tlsOptions.nullable().optional(), secret: secret.optional() })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one field to change.');
export type PatchDestinationInput = z.infer<typeof patchDestinationBody>;

/** Validates a merged (stored + patched) destination with the create rules. */
export const checkMergedDestination = z.object({ transport: z.string(), host: z.string().nullable(), port: z.number().nullable(), url: z.string().nullable(), tls: z.any(), maxMessageBytes: z.number().nullable(), framing: z.string().nullable(), secret: z.string().nullable() }).superRefine(checkTransport);

/** The :id of every destination route. */
export const destinationParams = z.strictObject({ id: z.string().max(64) });

/** A destination as the tenant sees it: never the client key or the webhook secret. */
export const destinationView = z.object({
  id: z.string(),
  name: z.string(),
  transport: z.string(),
  format: z.string(),
  host: z.string().nullable(),
  port: z.number().nullable(),
  url: z.string().nullable(),
  categories: z.array(z.string()),
  minSeverity: z.number(),
  enabled: z.boolean(),
  maxMessageBytes: z.number().nullable(),
  framing: z.string().nullable(),
  tls: z.object({ caPem: z.string().nullable(), clientCertPem: z.string().nullable(), clientKeySet: z.boolean(), serverName: z.string().nullable() }).nullable(),
  secretSet: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DestinationView = z.infer<typeof destinationView>;

/** GET /api/v1/siem/destinations/{id}/status */
export const destinationStatus = z.object({
  state: z.enum(['disabled', 'idle', 'delivering', 'failing']),
  lagEvents: z.number(),
  lastDeliveredSeq: z.number(),
  lastDeliveredAt: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorAt: z.string().nullable(),
});
export type DestinationStatus = z.infer<typeof destinationStatus>;

/** POST /api/v1/siem/destinations/{id}/test: whether the receiver confirmed the test event (udp cannot confirm). */
export const testAnswer = z.object({ delivered: z.boolean(), confirmed: z.boolean(), error: z.string().nullable() });
