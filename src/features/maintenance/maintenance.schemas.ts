import { z } from 'zod';

/** PUT /ops/v1/maintenance and `custos maintenance on|off`. */
export const maintenanceBody = z.strictObject({
  enabled: z.boolean({ error: 'enabled is true or false' }),
  message: z.string().min(1).max(500, 'message is at most 500 characters').optional(),
  retryAfterSeconds: z.number().int('retryAfterSeconds is a whole number of seconds').min(1).max(86_400, 'retryAfterSeconds is at most 86400 (a day)').optional(),
});
export type MaintenanceInput = z.infer<typeof maintenanceBody>;

export const maintenanceView = z.object({ enabled: z.boolean(), message: z.string(), retryAfterSeconds: z.number(), since: z.string().nullable() });
