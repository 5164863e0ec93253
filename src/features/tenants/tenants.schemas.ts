import { z } from 'zod';

/** Tenant slugs: 3 to 32 of a-z, 0-9 and hyphen; they appear in logins and URLs. */
export const slugSchema = z
  .string()
  .regex(/^[a-z0-9-]{3,32}$/, 'A tenant slug is 3 to 32 characters of a-z, 0-9 and "-", such as "acme-corp"');

/** POST /ops/v1/tenants and `custos tenant create`. */
export const createTenantBody = z.strictObject({
  slug: slugSchema,
  adminEmail: z.email('adminEmail must be an email address, such as admin@example.com.').max(320),
  name: z.string().trim().min(1).max(200).optional(),
});
export type CreateTenantInput = z.infer<typeof createTenantBody>;

/** A tenant as the operator sees it (no keys, no users). */
export const tenantView = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const createTenantResponse = z.object({
  tenant: tenantView,
  activation: z.object({ token: z.string(), url: z.string(), expiresAt: z.string() }),
});

/** Path parameter: a tenant by slug or id. */
export const tenantParams = z.strictObject({ tenant: z.string().min(1).max(64) });
