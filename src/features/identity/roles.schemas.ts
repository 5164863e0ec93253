import { z } from 'zod';
import { permissionCatalogue } from './permissions.js';

/** A role name as granted to users and groups: built-in or custom (checked against the tenant's roles by the service). */
export const grantableRoleName = z.string().trim().min(1).max(64).regex(/^[a-z][a-z0-9-]*$/, 'A role name is lower-case letters, digits and -, such as db-operator.');

const permissionNames = Object.keys(permissionCatalogue) as [string, ...string[]];
const permissionName = z.enum(permissionNames, { error: 'Unknown permission: GET /api/v1/permissions lists the catalogue.' });

/** POST /api/v1/roles */
export const createRoleBody = z.strictObject({
  name: grantableRoleName,
  description: z.string().trim().min(1).max(500).optional(),
  permissions: z.array(permissionName).min(1, 'A role grants at least one permission.').max(permissionNames.length),
});
export type CreateRoleInput = z.infer<typeof createRoleBody>;

/** PATCH /api/v1/roles/{id}: the name is permanent because grants refer to it. */
export const patchRoleBody = z
  .strictObject({ description: z.string().trim().min(1).max(500).nullable().optional(), permissions: z.array(permissionName).min(1).max(permissionNames.length).optional() })
  .refine((patch) => Object.keys(patch).length > 0, 'Send description or permissions.');
export type PatchRoleInput = z.infer<typeof patchRoleBody>;

export const idParams = z.strictObject({ id: z.string().max(64) });

/** A role as anyone allowed to see roles sees it. */
export const roleView = z.object({ id: z.string().nullable(), name: z.string(), builtIn: z.boolean(), description: z.string().nullable(), permissions: z.array(z.string()), createdAt: z.string().nullable(), updatedAt: z.string().nullable() });

export const grantView = z.object({
  id: z.string(),
  subject: z.object({ type: z.string(), id: z.string() }),
  change: z.object({ kind: z.string(), roles: z.array(z.string()).optional(), userIds: z.array(z.string()).optional(), permissions: z.array(z.string()).optional() }),
  status: z.string(),
  requestedBy: z.string(),
  requestedAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  comment: z.string().nullable(),
});

/** GET /api/v1/role-grants */
export const listGrantsQuery = z.strictObject({
  status: z.enum(['pending', 'approved', 'denied', 'cancelled']).optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/** POST /api/v1/role-grants/{id}/approve|deny */
export const decideGrantBody = z.strictObject({ comment: z.string().trim().min(1).max(1000).optional() }).nullish();
