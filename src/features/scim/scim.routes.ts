import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { forbidden, notFound } from '../../platform/errors.js';
import type { ScimService } from './scim.service.js';
import { discoveryDocuments } from './scim-discovery.js';
import { installScimScope } from './scim-http.js';
import { scimGetQuery, scimGroupBody, scimGroupListQuery, scimIdParams, scimPatchBody, scimUserBody, scimUserListQuery } from './scim.schemas.js';
import { scimErrorView, scimGroupView, scimListView, scimUserView } from './scim-views.js';
import { SCIM } from './scim-protocol.js';

/** How many SCIM requests one token may make from one address in a window. */
export interface ScimRateLimit {
  max: number;
  windowMs: number;
}

const errors = { 400: scimErrorView, 401: scimErrorView, 403: scimErrorView, 404: scimErrorView, 409: scimErrorView, 429: scimErrorView };
const discovery = z.looseObject({ schemas: z.array(z.string()) });
const discoveryQuery = z.strictObject({ filter: z.string().max(2000).optional() });

/**
 * /scim/v2 (RFC 7644) for the tenant's identity provider, registered by main/ as its own scope: Users, Groups
 * and the discovery documents, every request authenticated by the SCIM token and rate-limited per token and
 * address (an initial import sends thousands of requests, so the default is generous).
 */
export function registerScimApi(scope: HttpApp, deps: { scim: ScimService; rateLimit?: ScimRateLimit }): void {
  const { users, groups } = deps.scim;
  const limit = deps.rateLimit ?? { max: 1200, windowMs: 60_000 };
  // The bearer hook of the scope runs first, so the key is the token's id (never the token) and the address.
  const config = { rateLimit: { max: limit.max, timeWindow: limit.windowMs, keyGenerator: (request: { actor?: { id: string }; ip: string }) => `scim|${request.actor?.id ?? '-'}|${request.ip}` } };
  const tags = ['scim'];
  installScimScope(scope, deps.scim.tokens.authenticate);

  scope.post('/Users', { config, schema: { tags, summary: 'Create a user (SCIM)', querystring: scimGetQuery, body: scimUserBody, response: { 201: scimUserView, ...errors } } }, async (request, reply) => {
    const user = await users.create(actorOf(request), request.body, request.query);
    if (user.meta) reply.header('location', user.meta.location);
    return reply.status(201).send(user);
  });
  scope.get('/Users', { config, schema: { tags, summary: 'Find users (filter, startIndex, count)', querystring: scimUserListQuery, response: { 200: scimListView(scimUserView), ...errors } } }, async (request) =>
    users.list(actorOf(request), request.query));
  scope.get('/Users/:id', { config, schema: { tags, summary: 'One user (SCIM)', params: scimIdParams, querystring: scimGetQuery, response: { 200: scimUserView, ...errors } } }, async (request) =>
    users.get(actorOf(request), request.params.id, request.query));
  scope.put('/Users/:id', { config, schema: { tags, summary: 'Replace a user (SCIM)', params: scimIdParams, querystring: scimGetQuery, body: scimUserBody, response: { 200: scimUserView, ...errors } } }, async (request) =>
    users.replace(actorOf(request), request.params.id, request.body, request.query));
  scope.patch('/Users/:id', { config, schema: { tags, summary: 'Change a user (SCIM PatchOp; active false deactivates)', params: scimIdParams, querystring: scimGetQuery, body: scimPatchBody, response: { 200: scimUserView, ...errors } } }, async (request) =>
    users.patch(actorOf(request), request.params.id, request.body, request.query));
  scope.delete('/Users/:id', { config, schema: { tags, summary: 'Deactivate and delete a user (answers 204)', params: scimIdParams } }, async (request, reply) => {
    await users.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });

  scope.post('/Groups', { config, schema: { tags, summary: 'Create a group (SCIM)', querystring: scimGetQuery, body: scimGroupBody, response: { 201: scimGroupView, ...errors } } }, async (request, reply) => {
    const group = await groups.create(actorOf(request), request.body, request.query);
    if (group.meta) reply.header('location', group.meta.location);
    return reply.status(201).send(group);
  });
  scope.get('/Groups', { config, schema: { tags, summary: 'Find groups (filter, startIndex, count)', querystring: scimGroupListQuery, response: { 200: scimListView(scimGroupView), ...errors } } }, async (request) =>
    groups.list(actorOf(request), request.query));
  scope.get('/Groups/:id', { config, schema: { tags, summary: 'One group (SCIM)', params: scimIdParams, querystring: scimGetQuery, response: { 200: scimGroupView, ...errors } } }, async (request) =>
    groups.get(actorOf(request), request.params.id, request.query));
  scope.put('/Groups/:id', { config, schema: { tags, summary: 'Replace a group and its members (SCIM)', params: scimIdParams, querystring: scimGetQuery, body: scimGroupBody, response: { 200: scimGroupView, ...errors } } }, async (request) =>
    groups.replace(actorOf(request), request.params.id, request.body, request.query));
  scope.patch('/Groups/:id', { config, schema: { tags, summary: 'Change a group: members, displayName (SCIM PatchOp)', params: scimIdParams, querystring: scimGetQuery, body: scimPatchBody, response: { 200: scimGroupView, ...errors } } }, async (request) =>
    groups.patch(actorOf(request), request.params.id, request.body, request.query));
  scope.delete('/Groups/:id', { config, schema: { tags, summary: 'Delete a group (answers 204)', params: scimIdParams } }, async (request, reply) => {
    await groups.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });

  // Discovery (RFC 7644 section 4) sits behind the same token: Okta and Entra ID call it with the token, and
  // one rule for the whole scope means an unauthenticated caller learns nothing, not even that SCIM is here.
  const documents = discoveryDocuments(deps.scim.baseUrl);
  const noFilter = (query: { filter?: string }) => {
    if (query.filter !== undefined) throw forbidden('SCIM_FILTER_NOT_ALLOWED', 'Discovery endpoints take no filter (RFC 7644 section 4).');
  };
  const list = <T>(items: T[]) => ({ schemas: [SCIM.listResponse], totalResults: items.length, startIndex: 1, itemsPerPage: items.length, Resources: items });
  const byId = <T extends { id: string }>(items: T[], id: string, what: string) => {
    const found = items.find((item) => item.id.toLowerCase() === id.toLowerCase());
    if (!found) throw notFound('SCIM_NOT_FOUND', `No ${what} ${id}; see the list without an id.`);
    return found;
  };
  scope.get('/ServiceProviderConfig', { config, schema: { tags, summary: 'What this SCIM service supports', querystring: discoveryQuery, response: { 200: discovery, ...errors } } }, async (request) => {
    noFilter(request.query);
    return documents.serviceProviderConfig;
  });
  scope.get('/ResourceTypes', { config, schema: { tags, summary: 'The resource types (User, Group)', querystring: discoveryQuery, response: { 200: discovery, ...errors } } }, async (request) => {
    noFilter(request.query);
    return list(documents.resourceTypes);
  });
  scope.get('/ResourceTypes/:id', { config, schema: { tags, summary: 'One resource type', params: scimIdParams, response: { 200: discovery, ...errors } } }, async (request) =>
    byId(documents.resourceTypes, request.params.id, 'resource type'));
  scope.get('/Schemas', { config, schema: { tags, summary: 'The User and Group schemas', querystring: discoveryQuery, response: { 200: discovery, ...errors } } }, async (request) => {
    noFilter(request.query);
    return list(documents.schemas);
  });
  scope.get('/Schemas/:id', { config, schema: { tags, summary: 'One schema', params: scimIdParams, response: { 200: discovery, ...errors } } }, async (request) =>
    byId(documents.schemas, request.params.id, 'schema'));
}
