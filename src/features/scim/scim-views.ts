import { z } from 'zod';
import type { GroupTable, UserTable } from '../../platform/db/schema.js';
import { iso, SCIM, versionOf } from './scim-protocol.js';
import type { ScimProjection } from './scim.schemas.js';

const meta = z.object({ resourceType: z.string(), created: z.string(), lastModified: z.string(), location: z.string(), version: z.string() });
// No $ref (optional in RFC 7643): OpenAPI tooling reads a property of that name as a JSON Schema reference.
const reference = z.object({ value: z.string(), display: z.string().optional() });

/** A User as SCIM answers it: an allowlist (never a hash), every attribute but schemas and id optional for projection. */
export const scimUserView = z.object({
  schemas: z.array(z.string()),
  id: z.string(),
  externalId: z.string().optional(),
  userName: z.string().optional(),
  name: z.object({ formatted: z.string().optional(), givenName: z.string().optional(), familyName: z.string().optional() }).optional(),
  displayName: z.string().optional(),
  emails: z.array(z.object({ value: z.string(), type: z.string(), primary: z.boolean() })).optional(),
  active: z.boolean().optional(),
  groups: z.array(reference).optional(),
  meta: meta.optional(),
});
export type ScimUserView = z.infer<typeof scimUserView>;

/** A Group as SCIM answers it. */
export const scimGroupView = z.object({
  schemas: z.array(z.string()),
  id: z.string(),
  externalId: z.string().optional(),
  displayName: z.string().optional(),
  members: z.array(reference).optional(),
  meta: meta.optional(),
});
export type ScimGroupView = z.infer<typeof scimGroupView>;

/** An RFC 7644 section 3.4.2 ListResponse of one resource type. */
export const scimListView = <T extends z.ZodType>(resource: T) =>
  z.object({ schemas: z.array(z.string()), totalResults: z.number(), startIndex: z.number(), itemsPerPage: z.number(), Resources: z.array(resource) });

/** An RFC 7644 section 3.12 error. */
export const scimErrorView = z.object({ schemas: z.array(z.string()), status: z.string(), scimType: z.string().optional(), detail: z.string() });

const present = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

/** A user row as a SCIM User; `baseUrl` is the installation's /scim/v2 address. */
export function userResource(row: UserTable, groups: readonly { id: string; name: string }[], baseUrl: string): ScimUserView {
  const given = present(row.given_name);
  const family = present(row.family_name);
  const formatted = row.display_name ?? ([given, family].filter(Boolean).join(' ') || undefined);
  return {
    schemas: [SCIM.user],
    id: row.id,
    externalId: present(row.external_id),
    userName: row.username,
    name: { formatted, givenName: given, familyName: family },
    displayName: present(row.display_name),
    emails: [{ value: row.email, type: 'work', primary: true }],
    active: row.status !== 'inactive',
    groups: groups.map((g) => ({ value: g.id, display: g.name })),
    meta: { resourceType: 'User', created: iso(row.created_at), lastModified: iso(row.updated_at), location: `${baseUrl}/Users/${row.id}`, version: versionOf(row.updated_at) },
  };
}

/** A group row as a SCIM Group; members are left out when the caller excluded them (never read then). */
export function groupResource(row: GroupTable, members: readonly { id: string; username: string; display_name: string | null }[] | null, baseUrl: string): ScimGroupView {
  return {
    schemas: [SCIM.group],
    id: row.id,
    externalId: present(row.external_id),
    displayName: row.name,
    members: members?.map((m) => ({ value: m.id, display: m.display_name ?? m.username })),
    meta: { resourceType: 'Group', created: iso(row.created_at), lastModified: iso(row.updated_at), location: `${baseUrl}/Groups/${row.id}`, version: versionOf(row.updated_at) },
  };
}

/** Whether a projection asks for an attribute (RFC 7644 section 3.4.2.5); schemas and id always come back. */
export function wants(projection: ScimProjection, attribute: string): boolean {
  const name = attribute.toLowerCase();
  if (name === 'id' || name === 'schemas') return true;
  if (projection.attributes && projection.attributes.length > 0) return projection.attributes.includes(name);
  return !(projection.excludedAttributes ?? []).includes(name);
}

/** The resource with only the attributes the projection asks for. */
export function project<T extends Record<string, unknown>>(resource: T, projection: ScimProjection): T {
  if (!projection.attributes?.length && !projection.excludedAttributes?.length) return resource;
  return Object.fromEntries(Object.entries(resource).filter(([key]) => wants(projection, key))) as T;
}

/** A ListResponse page. */
export function listResponse<T>(resources: T[], totalResults: number, startIndex: number) {
  return { schemas: [SCIM.listResponse], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}
