import { z } from 'zod';
import { grantableRoleName, grantView } from './roles.schemas.js';

/** A role granted to a user: built in or one of the tenant's custom roles (the service checks it exists). */
export const roleName = grantableRoleName;

/** Login names: lower-case letters, digits and . _ @ + - (an email address fits). */
export const usernameField = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(320)
  .regex(/^[a-z0-9._@+-]+$/, 'A username is letters, digits and . _ @ + - only, such as jane.doe or jane@acme.example');

/** POST /api/v1/users */
export const createUserBody = z.strictObject({
  username: usernameField,
  email: z.email('email must be an email address, such as jane@acme.example').max(320),
  displayName: z.string().trim().min(1).max(200).optional(),
  roles: z.array(roleName).max(10).optional(),
});
export type CreateUserInput = z.infer<typeof createUserBody>;

/** PATCH /api/v1/users/{id}: at least one field; status inactive deactivates. */
export const patchUserBody = z
  .strictObject({
    email: z.email('email must be an email address').max(320).optional(),
    displayName: z.string().trim().min(1).max(200).nullable().optional(),
    roles: z.array(roleName).max(10).optional(),
    status: z.enum(['active', 'inactive']).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'Send at least one of email, displayName, roles, status.');
export type PatchUserInput = z.infer<typeof patchUserBody>;

/** GET /api/v1/users query: filters and cursor pagination. */
export const listUsersQuery = z.strictObject({
  q: z.string().trim().min(1).max(200).optional(),
  status: z.enum(['pending', 'active', 'inactive', 'locked']).optional(),
  role: roleName.optional(),
  cursor: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type ListUsersQuery = z.infer<typeof listUsersQuery>;

export const userParams = z.strictObject({ id: z.string().max(64) });

/** A user as administrators see them: never a hash or a token. */
export const userView = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  displayName: z.string().nullable(),
  status: z.enum(['pending', 'active', 'inactive', 'locked']),
  roles: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastLoginAt: z.string().nullable(),
});

export const activationView = z.object({ token: z.string(), expiresAt: z.string(), url: z.string() });

/** Present when four-eyes deferred an administrative role to a second administrator. */
export const pendingGrantField = grantView.nullable().optional();
