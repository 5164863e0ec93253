import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from './auth.schemas.js';
import type { RoleGrants } from './role-grants.service.js';
import type { RoleService } from './roles.service.js';
import { createRoleBody, decideGrantBody, grantView, idParams, listGrantsQuery, patchRoleBody, roleView } from './roles.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** The permission catalogue, roles (/api/v1/roles) and four-eyes role grants (/api/v1/role-grants). */
export function registerRoleRoutes(app: HttpApp, deps: { roles: RoleService; grants: RoleGrants }): void {
  const { roles, grants } = deps;

  app.get('/permissions', {
    config: { permission: 'identity.roles.read' },
    schema: { tags: ['roles'], summary: 'The published permission catalogue (module.resource.action)', security, response: { 200: z.object({ permissions: z.array(z.object({ name: z.string(), description: z.string() })) }), ...errors } },
  }, async () => ({ permissions: roles.catalogue() }));

  app.get('/roles', {
    config: { permission: 'identity.roles.read' },
    schema: { tags: ['roles'], summary: 'Built-in and custom roles with what they grant', security, response: { 200: z.object({ roles: z.array(roleView) }), ...errors } },
  }, async (request) => ({ roles: await roles.list(actorOf(request)) }));

  app.post('/roles', {
    config: { permission: 'identity.roles.write' },
    schema: { tags: ['roles'], summary: 'Create a custom role (only with permissions you hold)', security, body: createRoleBody, response: { 201: z.object({ role: roleView }), ...errors } },
  }, async (request, reply) => reply.status(201).send({ role: await roles.create(actorOf(request), request.body) }));

  app.get('/roles/:id', {
    config: { permission: 'identity.roles.read' },
    schema: { tags: ['roles'], summary: 'One custom role', security, params: idParams, response: { 200: z.object({ role: roleView }), ...errors } },
  }, async (request) => ({ role: await roles.get(actorOf(request), request.params.id) }));

  app.patch('/roles/:id', {
    config: { permission: 'identity.roles.write' },
    schema: { tags: ['roles'], summary: 'Change a custom role (its name is permanent)', security, params: idParams, body: patchRoleBody, response: { 200: z.object({ role: roleView, pendingGrant: grantView.nullable() }), ...errors } },
  }, async (request) => roles.update(actorOf(request), request.params.id, request.body));

  app.delete('/roles/:id', {
    config: { permission: 'identity.roles.write' },
    schema: { tags: ['roles'], summary: 'Delete a custom role no one holds (answers 204)', security, params: idParams },
  }, async (request, reply) => {
    await roles.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });

  app.get('/role-grants', {
    config: { permission: 'identity.role-grants.read' },
    schema: { tags: ['roles'], summary: 'Role grants (four-eyes), newest first; filter by status', security, querystring: listGrantsQuery, response: { 200: z.object({ grants: z.array(grantView), nextCursor: z.string().nullable() }), ...errors } },
  }, async (request) => grants.list(actorOf(request), request.query));

  app.get('/role-grants/:id', {
    config: { permission: 'identity.role-grants.read' },
    schema: { tags: ['roles'], summary: 'One role grant', security, params: idParams, response: { 200: z.object({ grant: grantView }), ...errors } },
  }, async (request) => ({ grant: await grants.get(actorOf(request), request.params.id) }));

  for (const decision of ['approve', 'deny'] as const) {
    app.post(`/role-grants/:id/${decision}`, {
      config: { permission: 'identity.role-grants.decide' },
      schema: { tags: ['roles'], summary: `${decision === 'approve' ? 'Approve (and apply)' : 'Deny'} a pending grant; never your own`, security, params: idParams, body: decideGrantBody, response: { 200: z.object({ grant: grantView }), ...errors } },
    }, async (request) => ({ grant: await grants[decision](actorOf(request), request.params.id, request.body?.comment) }));
  }
}
