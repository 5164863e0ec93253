import { DomainError, type ErrorKind } from '../../platform/errors.js';

/** The schema URNs of RFC 7643 and RFC 7644 that Custos speaks. */
export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** The scimType values of RFC 7644 section 3.12 that Custos answers with. */
export type ScimType = 'invalidFilter' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'tooMany';

/** A refusal the SCIM error handler turns into an RFC 7644 error with this scimType (the stable code stays for logs). */
export function scimError(kind: ErrorKind, scimType: ScimType | null, code: string, message: string): DomainError {
  return new DomainError(code, message, kind, scimType ? { scimType } : undefined);
}

/** The most results one list answers (advertised as filter.maxResults). */
export const MAX_RESULTS = 200;

/**
 * A SCIM boolean as identity providers send it: Entra ID sends "True"/"False" strings in PATCH values, so the
 * strings true and false in any case count; anything else is not a boolean (undefined).
 */
export function scimBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  return undefined;
}

/** An ISO 8601 instant from epoch milliseconds. */
export const iso = (ms: number) => new Date(ms).toISOString();

/** meta.version: a weak ETag of the last change, so a client can tell that a resource changed. */
export const versionOf = (updatedAt: number) => `W/"${updatedAt.toString(36)}"`;
