import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { acknowledgeBody, alertAnswer, alertList, behaviourSettingsBody, behaviourSettingsView, eventList, idParams, listAlertsQuery, listEventsQuery, postureView } from './behaviour.schemas.js';
import type { BehaviourService } from './behaviour.service.js';

const security = [{ tenantToken: [] }];
const tags = ['behaviour'];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };

/** Behaviour analytics (/api/v1/behaviour): alerts, a user's posture, scored events and the tenant's settings. */
export function registerBehaviourRoutes(app: HttpApp, deps: { behaviour: BehaviourService }): void {
  const { behaviour } = deps;
  const read = { permission: 'monitoring.behaviour.read' };
  const write = { permission: 'monitoring.behaviour.write' };

  app.get('/behaviour/settings', {
    config: read,
    schema: { tags, summary: 'The behaviour analytics settings: alert threshold, time zone, warm-up', security, response: { 200: z.object({ settings: behaviourSettingsView }), ...errors } },
  }, async (request) => ({ settings: await behaviour.getSettings(actorOf(request)) }));

  app.put('/behaviour/settings', {
    config: write,
    schema: { tags, summary: 'Change any of the behaviour analytics settings (the others keep their values)', security, body: behaviourSettingsBody, response: { 200: z.object({ settings: behaviourSettingsView }), ...errors } },
  }, async (request) => ({ settings: await behaviour.updateSettings(actorOf(request), request.body) }));

  app.get('/behaviour/alerts', {
    config: read,
    schema: { tags, summary: 'Behaviour alerts newest first; filter by user, time, minimum score and status', security, querystring: listAlertsQuery, response: { 200: alertList, ...errors } },
  }, async (request) => behaviour.listAlerts(actorOf(request), request.query));

  app.get('/behaviour/alerts/:id', {
    config: read,
    schema: { tags, summary: 'One behaviour alert with its signals', security, params: idParams, response: { 200: alertAnswer, ...errors } },
  }, async (request) => ({ alert: await behaviour.getAlert(actorOf(request), request.params.id) }));

  app.post('/behaviour/alerts/:id/acknowledge', {
    config: write,
    schema: { tags, summary: 'Acknowledge an open alert with a comment (audited)', security, params: idParams, body: acknowledgeBody, response: { 200: alertAnswer, 409: errorResponse, ...errors } },
  }, async (request) => ({ alert: await behaviour.acknowledge(actorOf(request), request.params.id, request.body.comment) }));

  app.get('/behaviour/users/:id', {
    config: read,
    schema: { tags, summary: "A user's posture: baseline summary, recent scores, open alerts, current risk", security, params: idParams, response: { 200: z.object({ posture: postureView }), ...errors } },
  }, async (request) => ({ posture: await behaviour.posture(actorOf(request), request.params.id) }));

  app.get('/behaviour/events', {
    config: read,
    schema: { tags, summary: "A user's scored logins, reveals and checkouts newest first, with their signals", security, querystring: listEventsQuery, response: { 200: eventList, ...errors } },
  }, async (request) => behaviour.listEvents(actorOf(request), request.query));
}
