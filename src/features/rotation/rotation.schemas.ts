import { z } from 'zod';
import { cursorField, limitField } from '../vault/devices.schemas.js';

/** Path parameters naming a credential or a rotation. */
export const idParams = z.strictObject({ id: z.string().max(64) });

/** GET /credentials/{id}/rotations: newest first, paged by the nextCursor of the previous page. */
export const historyQuery = z.strictObject({ cursor: cursorField.optional(), limit: limitField });

/** A rotation as the API shows it: an allowlist, never a secret. */
export const rotationView = z.object({
  id: z.string(),
  credentialId: z.string(),
  deviceId: z.string(),
  trigger: z.enum(['manual', 'max-age', 'after-reveal', 'after-checkin', 'window-end', 'reconcile']),
  state: z.enum(['scheduled', 'running', 'succeeded', 'failed', 'cancelled']),
  step: z.string(),
  attempts: z.number(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  hasPendingSecret: z.boolean(),
  fromVersion: z.number().nullable(),
  toVersion: z.number().nullable(),
  requestedBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});

/** The heartbeat's last check of a credential's stored secret: ok, out_of_sync (it no longer logs in) or unreachable. */
export const heartbeatView = z.object({ status: z.enum(['ok', 'out_of_sync', 'unreachable']), errorCode: z.string().nullable(), checkedAt: z.string(), changedAt: z.string() }).nullable();
