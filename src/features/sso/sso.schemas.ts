import { z } from 'zod';
import { tenantSlugField } from '../identity/auth.schemas.js';

/** Host names an issuer may use over plain http: only this machine, so tests can run a real IdP on loopback. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Whether a URL is an acceptable issuer: https, or http on a loopback host; no query, fragment or credentials. */
export function issuerProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'issuer must be an absolute URL, such as https://acme.okta.com';
  }
  if (url.username || url.password || url.search || url.hash) return 'issuer must not carry credentials, a query or a fragment';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return null;
  return 'issuer must be an https URL (plain http is accepted only for a loopback host such as 127.0.0.1, for testing)';
}

const issuerField = z.string().trim().max(500).superRefine((value, ctx) => {
  const problem = issuerProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** An OAuth scope token (RFC 6749 3.3): printable ASCII without spaces, quotes or backslashes. */
const scopeField = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,100}$/, 'Each scope is one word of printable ASCII, such as openid or groups');

/** PUT /api/v1/settings/sso: the whole configuration; clientSecret may be left out to keep the stored one. */
export const ssoSettingsBody = z.strictObject({
  enabled: z.boolean(),
  issuer: issuerField,
  clientId: z.string().trim().min(1).max(200),
  clientSecret: z.string().min(1).max(1000).optional(),
  scopes: z.array(scopeField).max(20).optional(),
  groupClaim: z.string().trim().min(1).max(100).optional(),
  groupMapping: z.array(z.strictObject({ claim: z.string().min(1).max(200), group: z.string().trim().min(1).max(200) })).max(100).optional(),
  jitProvisioning: z.boolean(),
  ssoOnly: z.boolean(),
  breakGlassUsers: z.array(z.string().max(64)).max(20),
});
export type SsoSettingsInput = z.infer<typeof ssoSettingsBody>;

/** The settings as GET shows them: never the client secret, only whether one is stored. */
export const ssoSettingsView = z.object({
  enabled: z.boolean(),
  issuer: z.string().nullable(),
  clientId: z.string().nullable(),
  clientSecretSet: z.boolean(),
  scopes: z.array(z.string()),
  groupClaim: z.string(),
  groupMapping: z.array(z.object({ claim: z.string(), group: z.string(), groupName: z.string().nullable() })),
  jitProvisioning: z.boolean(),
  ssoOnly: z.boolean(),
  breakGlassUsers: z.array(z.string()),
  /** Register exactly this URL at the identity provider. */
  redirectUri: z.string(),
});
export type SsoSettingsView = z.infer<typeof ssoSettingsView>;

/** GET /api/v1/auth/sso/start */
export const ssoStartQuery = z.strictObject({
  tenant: tenantSlugField,
  /** Where to land after login: a path on this server (never another origin). */
  returnTo: z.string().max(2000).optional(),
});

/** GET /api/v1/auth/sso/callback: what the IdP appends (it may add parameters of its own, such as session_state). */
export const ssoCallbackQuery = z.looseObject({
  code: z.string().max(4096).optional(),
  state: z.string().max(200).optional(),
  iss: z.string().max(500).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});
