import { z } from 'zod';
import { usernameField } from '../identity/users.schemas.js';
import { parseFilter, type FilterClause } from './scim-filter.js';
import { DomainError } from '../../platform/errors.js';
import { MAX_RESULTS, type ScimType } from './scim-protocol.js';

/** A zod issue that the SCIM error handler reports with this scimType (plain validation issues are invalidValue). */
const issue = (message: string, scimType: ScimType) => ({ code: 'custom' as const, message, params: { scimType } });

/** A SCIM boolean: true/false, or Entra ID's "True"/"False" strings (read with scimBoolean). */
export const scimBooleanField = z.union([z.boolean(), z.string().regex(/^\s*(true|false)\s*$/i, 'must be true or false')]);

const text = (max: number) => z.string().trim().max(max);
/** A display name, group name or name part. */
export const displayNameField = text(200).min(1);
/** The identity provider's id of a user or group (compared exactly). */
export const externalIdField = text(320).min(1);
/** An e-mail address. */
export const emailField = z.email('must be an e-mail address, such as jane@acme.example').max(320);
/** userName follows the login-name rules of /api/v1/users (stored lower-case). */
export { usernameField };

/** Attributes of the core User schema Custos accepts and does not keep (an IdP's default mappings send them). */
export const ignoredUserAttributes = ['nickname', 'profileurl', 'title', 'usertype', 'preferredlanguage', 'locale', 'timezone', 'phonenumbers', 'ims', 'photos', 'addresses', 'x509certificates', 'entitlements', 'roles', 'groups'];
const readOnly = ['schemas', 'id', 'meta'];

/**
 * Objects keep known attributes; read-only ones, the listed ignorable ones and extension schemas (urn:...)
 * pass unread; a password is refused; anything else is an unknown attribute (invalidSyntax).
 */
function resource<T extends z.ZodRawShape>(shape: T, ignored: readonly string[]) {
  return z
    .object(shape)
    .catchall(z.unknown())
    .superRefine((value, ctx) => {
      for (const key of Object.keys(value)) {
        if (key in shape) continue;
        const lower = key.toLowerCase();
        if (readOnly.includes(lower) || ignored.includes(lower) || lower.startsWith('urn:')) continue;
        if (lower === 'password') ctx.addIssue(issue('Custos does not take passwords from an identity provider: users sign in through single sign-on, or an administrator issues them an activation. Turn password sync off.', 'invalidValue'));
        else ctx.addIssue(issue(`Unknown attribute ${key}.`, 'invalidSyntax'));
      }
    });
}

const nameField = z.object({ formatted: text(200).nullish(), givenName: text(100).nullish(), familyName: text(100).nullish() }).nullish();
const emailEntry = z.object({ value: emailField, type: text(50).nullish(), primary: scimBooleanField.nullish(), display: text(320).nullish() });
/** A user's emails attribute: Custos keeps the primary address (else the work one, else the first). */
export const emailList = z.array(emailEntry).max(20);

/** POST /scim/v2/Users and PUT /scim/v2/Users/{id}: an RFC 7643 User. */
export const scimUserBody = resource(
  {
    userName: usernameField,
    externalId: externalIdField.nullish(),
    name: nameField,
    displayName: displayNameField.nullish(),
    emails: emailList.nullish(),
    active: scimBooleanField.optional(),
  },
  ignoredUserAttributes,
);
export type ScimUserInput = z.infer<typeof scimUserBody>;

/** A member reference: the user's id in Custos; display, type and $ref (which Entra ID sends as null) are informative and dropped. */
export const memberEntry = z.object({ value: z.string().max(64), display: z.string().max(320).nullish(), type: z.string().max(20).nullish() });

/** POST /scim/v2/Groups and PUT /scim/v2/Groups/{id}: an RFC 7643 Group. */
export const scimGroupBody = resource({ displayName: displayNameField, externalId: externalIdField.nullish(), members: z.array(memberEntry).max(10_000).nullish() }, []);
export type ScimGroupInput = z.infer<typeof scimGroupBody>;

/** PATCH: an RFC 7644 section 3.5.2 PatchOp; op in any case (Entra ID sends "Replace"). */
export const scimPatchBody = z.strictObject({
  schemas: z.array(z.string().max(200)).max(5).optional(),
  Operations: z
    .array(z.strictObject({ op: z.string().regex(/^(add|replace|remove)$/i, 'op is add, replace or remove'), path: z.string().trim().min(1).max(500).optional(), value: z.unknown().optional() }))
    .min(1, 'Send at least one operation.')
    .max(1000),
});
export type ScimPatchInput = z.infer<typeof scimPatchBody>;

/** attributes / excludedAttributes: comma-separated names, compared by their top-level attribute. */
const attributeList = z
  .string()
  .max(1000)
  .transform((value) => value.split(',').map((name) => name.trim().toLowerCase().replace(/^urn:ietf:params:scim:schemas:core:2\.0:(user|group):/, '').split('.')[0]!).filter(Boolean));

/** GET /scim/v2/Users/{id} and /Groups/{id}: which attributes to answer. */
export const scimGetQuery = z.strictObject({ attributes: attributeList.optional(), excludedAttributes: attributeList.optional() });
export type ScimProjection = z.infer<typeof scimGetQuery>;

/** A list query: filter (parsed against the resource's filterable attributes), 1-based startIndex and count. */
function listQuery(filterable: Readonly<Record<string, string>>) {
  return scimGetQuery.extend({
    filter: z
      .string()
      .max(2000)
      .transform((value, ctx): FilterClause[] => {
        try {
          return parseFilter(value, filterable);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          ctx.addIssue(issue(error.message, 'invalidFilter'));
          return z.NEVER;
        }
      })
      .optional(),
    // RFC 7644 section 3.4.2.4: below 1 counts as 1, a negative count as 0; more than the maximum answers the maximum.
    startIndex: z.coerce.number().int().transform((n) => Math.max(1, n)).default(1),
    count: z.coerce.number().int().transform((n) => Math.min(MAX_RESULTS, Math.max(0, n))).default(100),
    // Sorting is not offered (ServiceProviderConfig says so); results come in creation order.
    sortBy: z.string().max(200).optional(),
    sortOrder: z.string().max(20).optional(),
  });
}
/** GET /scim/v2/Users: filterable on userName, externalId, id, displayName, emails and active. */
export const scimUserListQuery = listQuery({ username: 'userName', externalid: 'externalId', id: 'id', displayname: 'displayName', 'emails.value': 'emails', emails: 'emails', active: 'active' });
/** GET /scim/v2/Groups: filterable on displayName, externalId, id and members. */
export const scimGroupListQuery = listQuery({ displayname: 'displayName', externalid: 'externalId', id: 'id', 'members.value': 'members', members: 'members' });
export type ScimListQuery = z.infer<typeof scimUserListQuery>;

/** A resource id in the path (an unknown or foreign one answers 404, never 400). */
export const scimIdParams = z.strictObject({ id: z.string().max(200) });
