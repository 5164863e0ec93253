import { z } from 'zod';
import { cursorField } from '../vault/devices.schemas.js';

/** The tenant's schedule of connectivity checks as stored and answered. */
export interface ConnectivitySettings { enabled: boolean; intervalMinutes: number }

/** Every device is checked every 3 minutes unless the tenant says otherwise. */
export const defaultConnectivitySettings: ConnectivitySettings = { enabled: true, intervalMinutes: 3 };

/** PUT /api/v1/settings/connectivity: any of the fields; the others keep their values. */
export const connectivitySettingsBody = z
  .strictObject({
    enabled: z.boolean({ error: 'enabled is true or false' }).optional(),
    intervalMinutes: z.number({ error: 'intervalMinutes is a whole number of minutes from 1 to 1440' }).int('intervalMinutes is a whole number of minutes from 1 to 1440').min(1, 'intervalMinutes is at least 1').max(1440, 'intervalMinutes is at most 1440 (a day)').optional(),
  })
  .refine((body) => Object.keys(body).length > 0, 'Send at least one field, such as {"intervalMinutes": 5}.');
export type ConnectivitySettingsInput = z.infer<typeof connectivitySettingsBody>;

export const connectivitySettingsView = z.object({ enabled: z.boolean(), intervalMinutes: z.number() });

const statusField = z.enum(['ok', 'degraded', 'unreachable', 'refused']);

/** One check as answered: never a secret, only the credential's id when one was used. */
export const checkView = z.object({
  id: z.string(),
  status: statusField,
  latencyMs: z.number().nullable(),
  code: z.string().nullable(),
  message: z.string(),
  trigger: z.enum(['scheduled', 'manual']),
  checkedAt: z.string(),
});
export type CheckView = z.infer<typeof checkView>;

/** A device's current connectivity: the latest result and since when its status has held. */
export const currentView = z.object({
  status: statusField,
  latencyMs: z.number().nullable(),
  code: z.string().nullable(),
  message: z.string(),
  checkedAt: z.string(),
  since: z.string(),
});

/** GET /api/v1/devices/{id}/connectivity: current (null before the first check) and history, newest first. */
export const connectivityAnswer = z.object({ deviceId: z.string(), current: currentView.nullable(), history: z.array(checkView), nextCursor: z.string().nullable() });

/** POST /api/v1/devices/{id}/check: optionally the credential to log in with (by default the device's oldest fitting one). */
export const checkBody = z.strictObject({ credentialId: z.string().max(64).optional() }).nullish();

/** The answer of an on-demand check. */
export const checkAnswer = z.object({ check: checkView, credentialId: z.string().nullable() });

export const historyQuery = z.strictObject({ cursor: cursorField.optional(), limit: z.coerce.number().int().min(1).max(100).default(20) });
export const deviceParams = z.strictObject({ id: z.string().max(64) });
