import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { grantsView, putGrantsBody } from './client-grants.schemas.js';
import type { ClientGrantService } from './client-grants.service.js';
import { clientParams } from './clients.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };

/** /api/v1/clients/{id}/credential-grants: the credentials (by id or tag) an API client may reveal. */
export function registerClientGrantRoutes(app: HttpApp, deps: { grants: ClientGrantService }): void {
  app.get('/clients/:id/credential-grants', {
    config: { permission: 'identity.clients.read' },
    schema: { tags: ['clients'], summary: 'The credentials an API client may reveal (with scope vault.credentials.use): by id and by tag', security, params: clientParams, response: { 200: grantsView, ...errors } },
  }, async (request) => deps.grants.get(actorOf(request), request.params.id));

  app.put('/clients/:id/credential-grants', {
    config: { permission: 'identity.clients.write' },
    schema: { tags: ['clients'], summary: "Replace an API client's credential grants (credential ids of this tenant, tags); a list left out is emptied", security, params: clientParams, body: putGrantsBody, response: { 200: grantsView, ...errors } },
  }, async (request) => deps.grants.replace(actorOf(request), request.params.id, request.body));
}
