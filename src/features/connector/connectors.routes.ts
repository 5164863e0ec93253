import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { ConnectorService } from './connectors.service.js';
import { connectorParams, connectorView, connectorWithToken, createConnectorBody, listConnectorsQuery } from './connectors.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
const one = z.object({ connector: connectorView });

/** The tenant's network connectors (/api/v1/connectors); connectors themselves dial in at /api/v1/connectors/connect. */
export function registerConnectorRoutes(app: HttpApp, deps: { connectors: ConnectorService }): void {
  const { connectors } = deps;

  app.post('/connectors', {
    config: { permission: 'vault.connectors.write' },
    schema: { tags: ['connectors'], summary: 'Create a connector for a site; answers its token, shown only this once', security, body: createConnectorBody, response: { 201: connectorWithToken, ...errors } },
  }, async (request, reply) => reply.status(201).send(await connectors.create(actorOf(request), request.body)));

  app.get('/connectors', {
    config: { permission: 'vault.connectors.read' },
    schema: { tags: ['connectors'], summary: 'Every connector in creation order with its status (active, passive, connected, offline, revoked) and last sign of life', security, querystring: listConnectorsQuery, response: { 200: z.object({ connectors: z.array(connectorView) }), ...errors } },
  }, async (request) => ({ connectors: await connectors.list(actorOf(request), request.query) }));

  app.get('/connectors/:id', {
    config: { permission: 'vault.connectors.read' },
    schema: { tags: ['connectors'], summary: 'One connector (never its token)', security, params: connectorParams, response: { 200: one, ...errors } },
  }, async (request) => ({ connector: await connectors.get(actorOf(request), request.params.id) }));

  const revoke = {
    config: { permission: 'vault.connectors.write' },
    schema: { tags: ['connectors'], summary: 'Revoke a connector: its token stops working and its connection is closed at once', security, params: connectorParams, response: { 200: one, ...errors } },
  };
  app.post('/connectors/:id/revoke', revoke, async (request) => ({ connector: await connectors.revoke(actorOf(request), request.params.id) }));
  app.delete('/connectors/:id', revoke, async (request) => ({ connector: await connectors.revoke(actorOf(request), request.params.id) }));
}
