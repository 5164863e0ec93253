import { z } from 'zod';
import { revealedSecretView } from './reveal.schemas.js';

export const checkinReasons = ['returned', 'forced', 'expired', 'deactivated'] as const;
export type CheckinReason = (typeof checkinReasons)[number];

/** One checkout (custody lease) of a credential. */
export const checkoutView = z.object({
  id: z.string(),
  credentialId: z.string(),
  userId: z.string(),
  checkedOutAt: z.string(),
  expiresAt: z.string(),
  checkedInAt: z.string().nullable(),
  reason: z.enum(checkinReasons).nullable(),
});
export type CheckoutView = z.infer<typeof checkoutView>;

export const checkoutAnswer = z.object({ checkout: checkoutView, secret: revealedSecretView });
export const checkinAnswer = z.object({ checkout: checkoutView });

/** GET /api/v1/checkouts: the caller's active checkouts (mine=true, the default) or every active one of the tenant. */
export const listCheckoutsQuery = z.strictObject({ mine: z.enum(['true', 'false'], { error: 'use true or false' }).transform((v) => v === 'true').optional() });
export const checkoutParams = z.strictObject({ id: z.string().max(64) });
