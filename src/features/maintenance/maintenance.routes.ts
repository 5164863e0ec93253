import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { maintenanceBody, maintenanceView } from './maintenance.schemas.js';
import type { MaintenanceService } from './maintenance.service.js';

const security = [{ operatorToken: [] }];

/** The operator plane's maintenance switch (inside the /ops/v1 scope). */
export function registerMaintenanceRoutes(app: HttpApp, deps: { maintenance: MaintenanceService }): void {
  app.get('/maintenance', {
    schema: { tags: ['operator'], summary: 'Whether the tenant plane is closed for maintenance', security, response: { 200: z.object({ maintenance: maintenanceView }) } },
  }, async () => ({ maintenance: deps.maintenance.current() }));

  app.put('/maintenance', {
    schema: { tags: ['operator'], summary: 'Close (enabled: true) or reopen the tenant plane on every node; tenant requests then answer 503 MAINTENANCE with Retry-After', security, body: maintenanceBody, response: { 200: z.object({ maintenance: maintenanceView }), 400: errorResponse } },
  }, async (request) => ({ maintenance: await deps.maintenance.set(actorOf(request), request.body) }));
}

/** Answers every request of a tenant-plane scope 503 MAINTENANCE while maintenance is on (before authentication). */
export function closeForMaintenance(scope: HttpApp, maintenance: Pick<MaintenanceService, 'current'>): void {
  scope.addHook('onRequest', async (_request, reply) => {
    const state = maintenance.current();
    if (!state.enabled) return;
    return reply.status(503).header('retry-after', String(state.retryAfterSeconds)).send({ error: { code: 'MAINTENANCE', message: state.message } });
  });
}
