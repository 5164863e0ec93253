import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { Metrics } from '../../platform/http/metrics.js';
import type { SiemService } from './siem.service.js';
import { createDestinationBody, destinationParams, destinationStatus, destinationView, patchDestinationBody, testAnswer } from './siem.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
const tags = ['siem'];

/** The tenant's SIEM destinations (/api/v1/siem/destinations): where its audit events are forwarded, at least once and in order. */
export function registerSiemRoutes(app: HttpApp, deps: { siem: SiemService }): void {
  const { siem } = deps;

  app.post('/siem/destinations', {
    config: { permission: 'monitoring.siem.write' },
    schema: { tags, summary: 'Add a SIEM destination (syslog over udp, tcp or tls, or an https webhook); a webhook secret is shown only here', security, body: createDestinationBody, response: { 201: z.object({ destination: destinationView, secret: z.string().nullable() }), ...errors } },
  }, async (request, reply) => reply.status(201).send(await siem.create(actorOf(request), request.body)));

  app.get('/siem/destinations', {
    config: { permission: 'monitoring.siem.read' },
    schema: { tags, summary: 'Every SIEM destination in creation order', security, response: { 200: z.object({ destinations: z.array(destinationView) }), ...errors } },
  }, async (request) => ({ destinations: await siem.list(actorOf(request)) }));

  app.get('/siem/destinations/:id', {
    config: { permission: 'monitoring.siem.read' },
    schema: { tags, summary: 'One SIEM destination', security, params: destinationParams, response: { 200: z.object({ destination: destinationView }), ...errors } },
  }, async (request) => ({ destination: await siem.get(actorOf(request), request.params.id) }));

  app.patch('/siem/destinations/:id', {
    config: { permission: 'monitoring.siem.write' },
    schema: { tags, summary: 'Change a SIEM destination (any field but the transport)', security, params: destinationParams, body: patchDestinationBody, response: { 200: z.object({ destination: destinationView }), ...errors } },
  }, async (request) => ({ destination: await siem.update(actorOf(request), request.params.id, request.body) }));

  app.delete('/siem/destinations/:id', {
    config: { permission: 'monitoring.siem.write' },
    schema: { tags, summary: 'Remove a SIEM destination (answers 204)', security, params: destinationParams },
  }, async (request, reply) => {
    await siem.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });

  app.get('/siem/destinations/:id/status', {
    config: { permission: 'monitoring.siem.read' },
    schema: { tags, summary: 'Delivery status: lag, last delivered seq and time, last error', security, params: destinationParams, response: { 200: destinationStatus, ...errors } },
  }, async (request) => siem.status(actorOf(request), request.params.id));

  app.post('/siem/destinations/:id/test', {
    config: { permission: 'monitoring.siem.write' },
    schema: { tags, summary: 'Send a test event now and answer whether the receiver confirmed it (udp cannot confirm)', security, params: destinationParams, response: { 200: testAnswer, ...errors } },
  }, async (request) => siem.test(actorOf(request), request.params.id));
}

/** The HTTP metrics with the SIEM forwarder's beside them, so /metrics shows both. */
export function withSiemMetrics(metrics: Metrics, siem: Pick<SiemService['metrics'], 'exposeIn'>): Metrics {
  siem.exposeIn(metrics.registry);
  return metrics;
}
