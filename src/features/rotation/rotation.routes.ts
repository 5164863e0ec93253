import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { heartbeatView, historyQuery, idParams, rotationView } from './rotation.schemas.js';
import type { RotationService } from './rotation.service.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
const tags = ['rotation'];
const one = z.object({ rotation: rotationView });

/** Rotation of credentials' secrets on their targets: request one, follow it, see a credential's history, cancel before it starts. */
export function registerRotationRoutes(app: HttpApp, deps: { rotations: RotationService }): void {
  const { rotations } = deps;

  app.post('/credentials/:id/rotate', {
    config: { permission: 'vault.credentials.rotate' },
    schema: { tags, summary: 'Rotate the secret on its target now (answers 202 with the scheduled rotation; follow it with GET /api/v1/rotations/{id})', security, params: idParams, response: { 202: one, ...errors } },
  }, async (request, reply) => reply.status(202).send({ rotation: await rotations.request(actorOf(request), request.params.id) }));

  app.post('/credentials/:id/reconcile', {
    config: { permission: 'vault.credentials.rotate' },
    schema: { tags, summary: 'Reset the account on its target with its reconciliation credential (additionalInfo.reconcileCredentialId), for a secret that no longer logs in (202 with the scheduled rotation, trigger reconcile)', security, params: idParams, response: { 202: one, ...errors } },
  }, async (request, reply) => reply.status(202).send({ rotation: await rotations.reconcile(actorOf(request), request.params.id) }));

  app.get('/credentials/:id/rotations', {
    config: { permission: 'vault.rotations.read' },
    schema: { tags, summary: "A credential's rotations, newest first", security, params: idParams, querystring: historyQuery, response: { 200: z.object({ rotations: z.array(rotationView), nextCursor: z.string().nullable() }), ...errors } },
  }, async (request) => rotations.history(actorOf(request), request.params.id, request.query));

  app.get('/credentials/:id/heartbeat', {
    config: { permission: 'vault.rotations.read' },
    schema: { tags, summary: "The heartbeat's last check that the stored secret still logs in (null: not checked yet)", security, params: idParams, response: { 200: z.object({ heartbeat: heartbeatView }), ...errors } },
  }, async (request) => ({ heartbeat: await rotations.heartbeatOf(actorOf(request), request.params.id) }));

  app.get('/rotations/:id', {
    config: { permission: 'vault.rotations.read' },
    schema: { tags, summary: 'One rotation: state, step, attempts and the last error (never a secret)', security, params: idParams, response: { 200: one, ...errors } },
  }, async (request) => ({ rotation: await rotations.get(actorOf(request), request.params.id) }));

  app.post('/rotations/:id/cancel', {
    config: { permission: 'vault.credentials.rotate' },
    schema: { tags, summary: 'Cancel a rotation that is still scheduled and has not started (409 otherwise)', security, params: idParams, response: { 200: one, ...errors } },
  }, async (request) => ({ rotation: await rotations.cancel(actorOf(request), request.params.id) }));
}
