import { z } from 'zod';

/** A tenant's slug as users type it at login. */
export const tenantSlugField = z.string().min(1).max(64);

/** POST /api/v1/auth/activate */
export const activateBody = z.strictObject({
  tenant: tenantSlugField,
  token: z.string().min(1).max(200),
  password: z.string().min(1).max(4096),
});

/** POST /api/v1/auth/login; `totp` is accepted now and enforced once MFA lands. */
export const loginBody = z.strictObject({
  tenant: tenantSlugField,
  username: z.string().min(1).max(320),
  password: z.string().min(1).max(4096),
  totp: z.string().max(16).optional(),
});

/** POST /api/v1/auth/password */
export const changePasswordBody = z.strictObject({
  currentPassword: z.string().min(1).max(4096),
  newPassword: z.string().min(1).max(4096),
});

/** The user as the caller may see it: no hashes, no tokens. */
export const userView = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string(),
  roles: z.array(z.string()),
});

export const activateResponse = z.object({ user: userView });

export const loginResponse = z.object({
  token: z.string(),
  expiresAt: z.string(),
  idleTimeoutSeconds: z.number(),
  /** The password is older than the tenant allows: until it is changed, the session reaches only POST /auth/password, me and logout. */
  mustChangePassword: z.boolean(),
  /** The tenant requires a second factor of this user, who has none yet: until one is enrolled, the session reaches only the TOTP enrol/confirm routes, me and logout. */
  mfaEnrolmentRequired: z.boolean(),
});

export const meResponse = z.object({
  user: userView,
  tenant: z.object({ id: z.string(), slug: z.string() }),
});

/** The contract's error body, for the OpenAPI document. */
export const errorResponse = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  requestId: z.string(),
});
