import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { credentialParams } from './credentials.schemas.js';
import { checkinAnswer, checkoutAnswer, checkoutParams, checkoutView, listCheckoutsQuery } from './custody.schemas.js';
import type { CustodyService } from './custody.service.js';
import { checkoutBody } from './reveal.schemas.js';
import { z } from 'zod';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** Custody: check credentials out (exclusive, time-limited, with the secret) and in; administrators see and release every checkout. */
export function registerCustodyRoutes(app: HttpApp, deps: { custody: CustodyService }): void {
  const { custody } = deps;

  app.post('/credentials/:id/checkout', {
    config: { permission: 'vault.credentials.use' },
    schema: { tags: ['credentials'], summary: 'Check a credential out: exclusive custody for minutes (default 60, at most 1440) and its current secret, under the reveal policies', security, params: credentialParams, body: checkoutBody, response: { 201: checkoutAnswer, ...errors } },
  }, async (request, reply) => reply.status(201).send(await custody.checkout(actorOf(request), request.params.id, request.body)));

  app.post('/credentials/:id/checkin', {
    config: { permission: 'vault.credentials.use' },
    schema: { tags: ['credentials'], summary: 'Check in a credential you hold (reason returned); it may be flagged for rotation by its credential policy', security, params: credentialParams, response: { 200: checkinAnswer, ...errors } },
  }, async (request) => custody.checkin(actorOf(request), request.params.id));

  // No route permission: everyone sees their own custody; the service asks vault.credentials.read for everyone's.
  app.get('/checkouts', {
    schema: { tags: ['credentials'], summary: "Active checkouts: yours (mine=true, the default) or the tenant's (mine=false, needs vault.credentials.read)", security, querystring: listCheckoutsQuery, response: { 200: z.object({ checkouts: z.array(checkoutView) }), ...errors } },
  }, async (request) => custody.list(actorOf(request), request.query));

  app.post('/checkouts/:id/release', {
    config: { permission: 'vault.credentials.write' },
    schema: { tags: ['credentials'], summary: 'Force a checkout back (reason forced); it may be flagged for rotation by its credential policy', security, params: checkoutParams, response: { 200: checkinAnswer, ...errors } },
  }, async (request) => custody.release(actorOf(request), request.params.id));
}
