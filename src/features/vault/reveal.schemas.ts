import { z } from 'zod';

/** The longest justification kept (a ticket number and a sentence or two). */
export const JUSTIFICATION_MAX = 1000;

const useFields = {
  /** Why the secret is needed; required (at least 5 characters) where a policy asks for a justification or an approval. */
  justification: z.string().max(JUSTIFICATION_MAX).optional(),
  /** The approved access request this use relies on (else the caller's latest approval of this credential). */
  requestId: z.string().max(64).optional(),
  /** A fresh code of the caller's authenticator, where an access policy asks for a TOTP step-up with each use. */
  totp: z.string().regex(/^\d{6}$/, { error: 'a 6-digit code' }).optional(),
};

/**
 * The {id} of POST /api/v1/credentials/{id}/reveal: a credential id or `username@device-name`, '@' sent as it is
 * or URL-encoded as %40. At most 100 characters: the router refuses longer path parameters (414) before this runs.
 */
export const revealParams = z.strictObject({ id: z.string().min(1).max(100).regex(/^[^\p{Cc}]+$/u, 'a credential id or username@device-name, without control characters') });

/** POST /api/v1/credentials/{id}/reveal. */
export const revealBody = z.strictObject(useFields).nullish();
export type RevealInput = z.infer<typeof revealBody>;

/** POST /api/v1/credentials/{id}/checkout: the lease lasts `minutes` (1 to 1440, default 60). */
export const checkoutBody = z.strictObject({ ...useFields, minutes: z.number().int().min(1).max(1440).optional() }).nullish();
export type CheckoutInput = z.infer<typeof checkoutBody>;

/** A credential's current secret, as a reveal or a checkout shows it. */
export const revealedSecretView = z.object({
  credentialId: z.string(),
  version: z.number(),
  username: z.string(),
  type: z.string(),
  secret: z.string(),
  passphrase: z.string().nullable(),
  device: z.object({ id: z.string(), name: z.string() }),
  revealedAt: z.string(),
});
export type RevealedSecret = z.infer<typeof revealedSecretView>;
