import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { TenantService } from './tenants.service.js';
import { createTenantBody, createTenantResponse, tenantParams, tenantView } from './tenants.schemas.js';

const security = [{ operatorToken: [] }];

/** The operator plane's tenant routes, registered inside the /ops/v1 scope. */
export function registerTenantRoutes(app: HttpApp, deps: { tenants: TenantService }): void {
  const { tenants } = deps;

  app.get('/tenants', {
    schema: { tags: ['operator'], summary: 'List tenants', security, response: { 200: z.object({ tenants: z.array(tenantView) }) } },
  }, async () => ({ tenants: await tenants.list() }));

  app.post('/tenants', {
    schema: { tags: ['operator'], summary: 'Create a tenant and its admin (pending activation)', security, body: createTenantBody, response: { 201: createTenantResponse, 400: errorResponse, 409: errorResponse } },
  }, async (request, reply) => reply.status(201).send(await tenants.create(actorOf(request), request.body)));

  app.get('/tenants/:tenant', {
    schema: { tags: ['operator'], summary: 'One tenant by slug or id', security, params: tenantParams, response: { 200: z.object({ tenant: tenantView }), 404: errorResponse } },
  }, async (request) => ({ tenant: await tenants.get(request.params.tenant) }));

  app.post('/tenants/:tenant/suspend', {
    schema: { tags: ['operator'], summary: 'Suspend a tenant: every login and token is refused', security, params: tenantParams, response: { 200: z.object({ tenant: tenantView }), 404: errorResponse } },
  }, async (request) => ({ tenant: await tenants.suspend(actorOf(request), request.params.tenant) }));

  app.post('/tenants/:tenant/resume', {
    schema: { tags: ['operator'], summary: 'Resume a suspended tenant', security, params: tenantParams, response: { 200: z.object({ tenant: tenantView }), 404: errorResponse } },
  }, async (request) => ({ tenant: await tenants.resume(actorOf(request), request.params.tenant) }));

  app.post('/tenants/:tenant/admin-activation', {
    schema: { tags: ['operator'], summary: "Issue a new activation token for the tenant's admin, while they have not activated", security, params: tenantParams, response: { 201: createTenantResponse, 404: errorResponse, 409: errorResponse } },
  }, async (request, reply) => reply.status(201).send(await tenants.reissueAdminActivation(actorOf(request), request.params.tenant)));

  app.delete('/tenants/:tenant', {
    schema: { tags: ['operator'], summary: 'Delete a tenant: its keys are destroyed and its data removed', security, params: tenantParams, response: { 200: z.object({ tenant: tenantView }), 404: errorResponse } },
  }, async (request) => ({ tenant: await tenants.remove(actorOf(request), request.params.tenant) }));
}
