import { z } from 'zod';
import { cidrField } from '../identity/network-policy.js';

/** A scope as sent: the service checks it names a permission of the catalogue (UNKNOWN_SCOPE otherwise). */
const scopeName = z.string().trim().min(1).max(100).regex(/^[a-z0-9.-]+$/, 'A scope is a permission name, such as identity.users.read');

/** One or more scopes; repeats are dropped and the rest sorted, so equal sets compare equal. */
const scopesField = z
  .array(scopeName)
  .min(1, 'Give the client at least one scope, such as identity.users.read.')
  .max(100)
  .overwrite((scopes) => [...new Set(scopes)].sort());

/** Ranges the client may call from (IPv4/IPv6, CIDR or single address); empty: any address the tenant allows. */
const cidrsField = z
  .array(cidrField)
  .max(50)
  .overwrite((cidrs) => [...new Set(cidrs)]);

const nameField = z.string().trim().min(1).max(200);
const expiresAtField = z.iso.datetime({ offset: true, error: 'expiresAt must be an ISO 8601 time with a zone, such as 2027-01-01T00:00:00Z' });

/** POST /api/v1/clients */
export const createClientBody = z.strictObject({
  name: nameField,
  scopes: scopesField,
  allowedCidrs: cidrsField.optional(),
  expiresAt: expiresAtField.optional(),
});
export type CreateClientInput = z.infer<typeof createClientBody>;

/** PATCH /api/v1/clients/{id}: at least one field; expiresAt null removes the expiry; status inactive revokes every token. */
export const patchClientBody = z
  .strictObject({
    name: nameField.optional(),
    scopes: scopesField.optional(),
    allowedCidrs: cidrsField.optional(),
    expiresAt: expiresAtField.nullable().optional(),
    status: z.enum(['active', 'inactive']).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one of name, scopes, allowedCidrs, expiresAt, status.');
export type PatchClientInput = z.infer<typeof patchClientBody>;

/** GET /api/v1/clients query. */
export const listClientsQuery = z.strictObject({ status: z.enum(['active', 'inactive']).optional() });
export type ListClientsQuery = z.infer<typeof listClientsQuery>;

export const clientParams = z.strictObject({ id: z.string().max(64) });

/** An API client as the tenant sees it: never its secret or the secret's hash. */
export const clientView = z.object({
  id: z.string(),
  clientId: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  allowedCidrs: z.array(z.string()),
  expiresAt: z.string().nullable(),
  status: z.enum(['active', 'inactive']),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  secretRotatedAt: z.string(),
  lastTokenAt: z.string().nullable(),
});

/** Creation and rotation answer the secret, the only time it is ever shown. */
export const clientWithSecret = z.object({ client: clientView, clientSecret: z.string() });

/**
 * POST /api/v1/oauth2/token (form or JSON). Not strict: RFC 6749 section 3.2 says unknown parameters are
 * ignored. A repeated form parameter arrives as an array and fails here (invalid_request, section 3.2). The body
 * may be absent: credentials can come by HTTP Basic, and a missing grant_type is reported after authentication.
 */
export const tokenRequestBody = z.object({
  grant_type: z.string().max(100).optional(),
  scope: z.string().max(4000).optional(),
  client_id: z.string().max(200).optional(),
  client_secret: z.string().max(200).optional(),
}).optional();
export type TokenRequestBody = z.infer<typeof tokenRequestBody>;

/** RFC 6749 section 5.1. */
export const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: z.string(),
});

/** RFC 6749 section 5.2: the token route's error shape (not the house shape, which OAuth2 libraries do not read). */
export const oauthErrorResponse = z.object({ error: z.string(), error_description: z.string() });
