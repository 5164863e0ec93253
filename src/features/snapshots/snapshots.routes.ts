import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { createdSnapshotView, snapshotTenantBody, restoredTenantView, snapshotParams, snapshotView, verifiedSnapshotView } from './snapshots.schemas.js';
import type { SnapshotService } from './snapshots.service.js';

const security = [{ operatorToken: [] }];
const tags = ['operator'];

/** The operator plane's snapshots (inside the /ops/v1 scope): take one, list them, verify one. */
export function registerSnapshotRoutes(app: HttpApp, deps: { snapshots: SnapshotService }): void {
  const { snapshots } = deps;

  app.get('/snapshots', {
    schema: { tags, summary: 'The snapshots in the snapshot directory, newest first', security, response: { 200: z.object({ snapshots: z.array(snapshotView) }) } },
  }, async () => ({ snapshots: snapshots.list() }));

  app.post('/snapshots', {
    schema: { tags, summary: 'Take a consistent, encrypted snapshot of the whole system or of one tenant ({"tenant":"slug"})', security, body: snapshotTenantBody, response: { 201: z.object({ snapshot: createdSnapshotView }), 400: errorResponse, 404: errorResponse } },
  }, async (request, reply) => {
    const taken = await snapshots.create(actorOf(request), { tenantSlug: request.body.tenant });
    return reply.status(201).send({ snapshot: taken });
  });

  app.post('/snapshots/:id/restore', {
    schema: { tags, summary: 'Restore one tenant into the running system from a snapshot ({"tenant":"slug"}; a tenant snapshot names its own): its rows become exactly the snapshot\'s and its users sign in again', security, params: snapshotParams, body: snapshotTenantBody, response: { 200: restoredTenantView, 400: errorResponse, 404: errorResponse, 409: errorResponse } },
  }, async (request) => {
    const restored = await snapshots.restoreTenant(actorOf(request), request.params.id, { slug: request.body.tenant });
    return { snapshotId: restored.manifest.id, takenAt: restored.manifest.createdAt, tenantId: restored.tenantId, slug: restored.slug, rows: restored.rows, seconds: restored.seconds };
  });

  app.post('/snapshots/:id/verify', {
    schema: { tags, summary: 'Decrypt every part of a snapshot and check it against its manifest (400 with the reason when it is damaged)', security, params: snapshotParams, response: { 200: verifiedSnapshotView, 400: errorResponse, 404: errorResponse } },
  }, async (request) => ({ ok: true as const, ...snapshots.verify(request.params.id) }));
}
