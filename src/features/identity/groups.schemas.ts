import { z } from 'zod';
import { grantableRoleName, grantView } from './roles.schemas.js';

const groupName = z.string().trim().min(1).max(200);
const userIds = z.array(z.string().max(64)).max(1000);

/** POST /api/v1/groups */
export const createGroupBody = z.strictObject({
  name: groupName,
  description: z.string().trim().min(1).max(500).optional(),
  roles: z.array(grantableRoleName).max(20).optional(),
  members: userIds.optional(),
});
export type CreateGroupInput = z.infer<typeof createGroupBody>;

/** PATCH /api/v1/groups/{id}: roles replaces the group's roles. */
export const patchGroupBody = z
  .strictObject({ name: groupName.optional(), description: z.string().trim().min(1).max(500).nullable().optional(), roles: z.array(grantableRoleName).max(20).optional() })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one of name, description, roles.');
export type PatchGroupInput = z.infer<typeof patchGroupBody>;

/** POST /api/v1/groups/{id}/members */
export const addMembersBody = z.strictObject({ userIds: userIds.min(1, 'Send at least one user id.') });

export const groupParams = z.strictObject({ id: z.string().max(64) });
export const memberParams = z.strictObject({ id: z.string().max(64), userId: z.string().max(64) });

/** GET /api/v1/groups */
export const listGroupsQuery = z.strictObject({
  q: z.string().trim().min(1).max(200).optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type ListGroupsQuery = z.infer<typeof listGroupsQuery>;

const memberView = z.object({ id: z.string(), username: z.string(), displayName: z.string().nullable() });

/** A group as administrators see it. */
export const groupView = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  externalId: z.string().nullable(),
  roles: z.array(z.string()),
  members: z.array(memberView).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A group answer, with the grant that waits for a second administrator when four-eyes deferred part of the change. */
export const groupAnswer = z.object({ group: groupView, pendingGrant: grantView.nullable().optional() });
