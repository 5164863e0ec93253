import { z } from 'zod';

/** POST /ops/v1/snapshots and /snapshots/{id}/restore: the whole system, or one tenant by slug. */
export const snapshotTenantBody = z.strictObject({
  tenant: z.string({ error: 'tenant is a tenant slug' }).min(1).max(64).optional(),
});

/** A snapshot id as the service names them (UTC time and a random suffix), or the path-free name of one. */
export const snapshotParams = z.object({ id: z.string().regex(/^[0-9TZ]{16}-[0-9a-f]{8}$/, 'id is a snapshot id such as 20261207T030000Z-1a2b3c4d (GET /ops/v1/snapshots lists them)') });

const scopeView = z.union([z.object({ kind: z.literal('system') }), z.object({ kind: z.literal('tenant'), tenantId: z.string(), slug: z.string() })]);

/** A snapshot as listed: an allowlist of its header and file facts. */
export const snapshotView = z.object({ id: z.string(), path: z.string(), createdAt: z.string(), scope: scopeView, reason: z.enum(['manual', 'scheduled', 'before-migration']), bytes: z.number() });

const partView = z.object({ table: z.string(), rows: z.number(), sha256: z.string() });

/** A snapshot just written. */
export const createdSnapshotView = snapshotView.extend({ rows: z.number(), seconds: z.number(), parts: z.array(partView) });

/** What verify found: the manifest of an intact snapshot. */
export const verifiedSnapshotView = z.object({
  ok: z.literal(true), path: z.string(), bytes: z.number(), rows: z.number(),
  manifest: z.object({ id: z.string(), createdAt: z.string(), scope: scopeView, custosVersion: z.string(), dialect: z.string(), schemaVersion: z.string(), migrations: z.array(z.string()), parts: z.array(partView) }),
});

/** What a tenant restore did. */
export const restoredTenantView = z.object({ snapshotId: z.string(), takenAt: z.string(), tenantId: z.string(), slug: z.string(), rows: z.number(), seconds: z.number() });
