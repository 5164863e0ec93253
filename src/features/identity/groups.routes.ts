import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from './auth.schemas.js';
import type { GroupService } from './groups.service.js';
import { addMembersBody, createGroupBody, groupAnswer, groupParams, groupView, listGroupsQuery, memberParams, patchGroupBody } from './groups.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** Groups of the tenant plane (/api/v1/groups): members receive the group's roles. */
export function registerGroupRoutes(app: HttpApp, deps: { groups: GroupService }): void {
  const { groups } = deps;

  app.post('/groups', {
    config: { permission: 'identity.groups.write' },
    schema: { tags: ['groups'], summary: 'Create a group, optionally with roles and members', security, body: createGroupBody, response: { 201: groupAnswer, ...errors } },
  }, async (request, reply) => reply.status(201).send(await groups.create(actorOf(request), request.body)));

  app.get('/groups', {
    config: { permission: 'identity.groups.read' },
    schema: { tags: ['groups'], summary: 'List groups: filter by q (name); cursor pagination', security, querystring: listGroupsQuery, response: { 200: z.object({ groups: z.array(groupView), nextCursor: z.string().nullable() }), ...errors } },
  }, async (request) => groups.list(actorOf(request), request.query));

  app.get('/groups/:id', {
    config: { permission: 'identity.groups.read' },
    schema: { tags: ['groups'], summary: 'One group with its members and roles', security, params: groupParams, response: { 200: z.object({ group: groupView }), ...errors } },
  }, async (request) => ({ group: await groups.get(actorOf(request), request.params.id) }));

  app.patch('/groups/:id', {
    config: { permission: 'identity.groups.write' },
    schema: { tags: ['groups'], summary: 'Change name, description or roles (roles replaces them)', security, params: groupParams, body: patchGroupBody, response: { 200: groupAnswer, ...errors } },
  }, async (request) => groups.update(actorOf(request), request.params.id, request.body));

  app.delete('/groups/:id', {
    config: { permission: 'identity.groups.write' },
    schema: { tags: ['groups'], summary: 'Delete a group (answers 204); its members lose its roles', security, params: groupParams },
  }, async (request, reply) => {
    await groups.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });

  app.post('/groups/:id/members', {
    config: { permission: 'identity.groups.write' },
    schema: { tags: ['groups'], summary: 'Add members', security, params: groupParams, body: addMembersBody, response: { 200: groupAnswer, ...errors } },
  }, async (request) => groups.addMembers(actorOf(request), request.params.id, request.body.userIds));

  app.delete('/groups/:id/members/:userId', {
    config: { permission: 'identity.groups.write' },
    schema: { tags: ['groups'], summary: 'Remove a member (answers 204)', security, params: memberParams },
  }, async (request, reply) => {
    await groups.removeMember(actorOf(request), request.params.id, request.params.userId);
    return reply.status(204).send();
  });
}
