import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { ClientService } from './clients.service.js';
import { clientParams, clientView, clientWithSecret, createClientBody, listClientsQuery, patchClientBody } from './clients.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** The tenant's API clients (/api/v1/clients): applications that get tokens with the client credentials grant. */
export function registerClientRoutes(app: HttpApp, deps: { clients: ClientService }): void {
  const { clients } = deps;

  app.post('/clients', {
    config: { permission: 'identity.clients.write' },
    schema: { tags: ['clients'], summary: 'Create an API client; answers its secret, shown only this once', security, body: createClientBody, response: { 201: clientWithSecret, ...errors } },
  }, async (request, reply) => reply.status(201).send(await clients.create(actorOf(request), request.body)));

  app.get('/clients', {
    config: { permission: 'identity.clients.read' },
    schema: { tags: ['clients'], summary: 'Every API client in creation order; filter by status', security, querystring: listClientsQuery, response: { 200: z.object({ clients: z.array(clientView) }), ...errors } },
  }, async (request) => ({ clients: await clients.list(actorOf(request), request.query) }));

  app.get('/clients/:id', {
    config: { permission: 'identity.clients.read' },
    schema: { tags: ['clients'], summary: 'One API client (never its secret)', security, params: clientParams, response: { 200: z.object({ client: clientView }), ...errors } },
  }, async (request) => ({ client: await clients.get(actorOf(request), request.params.id) }));

  app.patch('/clients/:id', {
    config: { permission: 'identity.clients.write' },
    schema: { tags: ['clients'], summary: 'Change name, scopes, allowedCidrs, expiresAt (null removes it) or status (inactive revokes every token)', security, params: clientParams, body: patchClientBody, response: { 200: z.object({ client: clientView }), ...errors } },
  }, async (request) => ({ client: await clients.update(actorOf(request), request.params.id, request.body) }));

  app.delete('/clients/:id', {
    config: { permission: 'identity.clients.write' },
    schema: { tags: ['clients'], summary: 'Delete an API client and every token issued to it (answers 204)', security, params: clientParams },
  }, async (request, reply) => {
    await clients.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });

  app.post('/clients/:id/secret', {
    config: { permission: 'identity.clients.write' },
    schema: { tags: ['clients'], summary: 'Rotate the secret: answers the new one once; the old one and every token of the client stop working', security, params: clientParams, response: { 200: clientWithSecret, ...errors } },
  }, async (request) => clients.rotateSecret(actorOf(request), request.params.id));
}
