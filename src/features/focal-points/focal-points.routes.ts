import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { FocalPointService } from './focal-points.service.js';
import { createFocalPointBody, focalPointParams, focalPointView, listFocalPointsQuery, patchFocalPointBody } from './focal-points.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** The tenant's focal points (/api/v1/focal-points): named contacts the provider and notifications reach by topic. */
export function registerFocalPointRoutes(app: HttpApp, deps: { focalPoints: FocalPointService }): void {
  const { focalPoints } = deps;

  app.post('/focal-points', {
    config: { permission: 'settings.focal-points.write' },
    schema: { tags: ['focal-points'], summary: 'Add a focal point (at most 100 per tenant)', security, body: createFocalPointBody, response: { 201: z.object({ focalPoint: focalPointView }), ...errors } },
  }, async (request, reply) => reply.status(201).send({ focalPoint: await focalPoints.create(actorOf(request), request.body) }));

  app.get('/focal-points', {
    config: { permission: 'settings.focal-points.read' },
    schema: { tags: ['focal-points'], summary: 'Every focal point in creation order; filter by topic', security, querystring: listFocalPointsQuery, response: { 200: z.object({ focalPoints: z.array(focalPointView) }), ...errors } },
  }, async (request) => ({ focalPoints: await focalPoints.list(actorOf(request), request.query) }));

  app.get('/focal-points/:id', {
    config: { permission: 'settings.focal-points.read' },
    schema: { tags: ['focal-points'], summary: 'One focal point', security, params: focalPointParams, response: { 200: z.object({ focalPoint: focalPointView }), ...errors } },
  }, async (request) => ({ focalPoint: await focalPoints.get(actorOf(request), request.params.id) }));

  app.patch('/focal-points/:id', {
    config: { permission: 'settings.focal-points.write' },
    schema: { tags: ['focal-points'], summary: 'Change any of name, email, phone (null removes it), topics', security, params: focalPointParams, body: patchFocalPointBody, response: { 200: z.object({ focalPoint: focalPointView }), ...errors } },
  }, async (request) => ({ focalPoint: await focalPoints.update(actorOf(request), request.params.id, request.body) }));

  app.delete('/focal-points/:id', {
    config: { permission: 'settings.focal-points.write' },
    schema: { tags: ['focal-points'], summary: 'Remove a focal point (answers 204)', security, params: focalPointParams },
  }, async (request, reply) => {
    await focalPoints.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });
}
