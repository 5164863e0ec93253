import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from './auth.schemas.js';
import type { UserService } from './users.service.js';
import { activationView, createUserBody, listUsersQuery, patchUserBody, pendingGrantField, userParams, userView } from './users.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** User administration routes of the tenant plane (/api/v1/users), each guarded by its permission. */
export function registerUserRoutes(app: HttpApp, deps: { users: UserService }): void {
  const { users } = deps;

  app.post('/users', {
    config: { permission: 'identity.users.write' },
    schema: { tags: ['users'], summary: 'Create a user, pending activation', security, body: createUserBody, response: { 201: z.object({ user: userView, activation: activationView, pendingGrant: pendingGrantField }), ...errors } },
  }, async (request, reply) => reply.status(201).send(await users.create(actorOf(request), request.body)));

  app.get('/users', {
    config: { permission: 'identity.users.read' },
    schema: { tags: ['users'], summary: 'List users: filter by q (username, email, name), status, role; cursor pagination', security, querystring: listUsersQuery, response: { 200: z.object({ users: z.array(userView), nextCursor: z.string().nullable() }), ...errors } },
  }, async (request) => users.list(actorOf(request), request.query));

  app.get('/users/:id', {
    config: { permission: 'identity.users.read' },
    schema: { tags: ['users'], summary: 'One user', security, params: userParams, response: { 200: z.object({ user: userView }), ...errors } },
  }, async (request) => ({ user: await users.get(actorOf(request), request.params.id) }));

  app.get('/users/:id/permissions', {
    config: { permission: 'identity.users.read' },
    schema: { tags: ['users'], summary: "A user's effective permissions: roles held directly and through groups", security, params: userParams, response: { 200: z.object({ userId: z.string(), roles: z.array(z.string()), sources: z.array(z.object({ role: z.string(), via: z.string().nullable() })), permissions: z.array(z.string()) }), ...errors } },
  }, async (request) => users.effectivePermissions(actorOf(request), request.params.id));

  app.patch('/users/:id', {
    config: { permission: 'identity.users.write' },
    schema: { tags: ['users'], summary: 'Change profile, roles or status (status "inactive" deactivates)', security, params: userParams, body: patchUserBody, response: { 200: z.object({ user: userView, pendingGrant: pendingGrantField }), ...errors } },
  }, async (request) => users.update(actorOf(request), request.params.id, request.body));

  app.delete('/users/:id', {
    config: { permission: 'identity.users.deactivate' },
    schema: { tags: ['users'], summary: 'Deactivate and remove a user (answers 204)', security, params: userParams },
  }, async (request, reply) => {
    await users.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });

  app.post('/users/:id/reset-password', {
    config: { permission: 'identity.users.write' },
    schema: { tags: ['users'], summary: 'Issue a new activation token so the user sets a new password', security, params: userParams, response: { 201: z.object({ activation: activationView }), ...errors } },
  }, async (request, reply) => reply.status(201).send(await users.resetPassword(actorOf(request), request.params.id)));
}
