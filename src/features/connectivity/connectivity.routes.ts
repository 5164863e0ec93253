import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { ConnectivityService } from './connectivity.service.js';
import { checkAnswer, checkBody, connectivityAnswer, connectivitySettingsBody, connectivitySettingsView, deviceParams, historyQuery } from './connectivity.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };
const tags = ['connectivity'];

/** Connectivity of devices: an on-demand check, status with history, and the tenant's schedule of checks. */
export function registerConnectivityRoutes(app: HttpApp, deps: { connectivity: ConnectivityService }): void {
  const { connectivity } = deps;

  app.post('/devices/:id/check', {
    config: { permission: 'vault.connectivity.check' },
    schema: { tags, summary: "Check a device now: TCP reach, the protocol's handshake and, with one of its credentials, a login; answers the result", security, params: deviceParams, body: checkBody, response: { 200: checkAnswer, ...errors } },
  }, async (request) => connectivity.checkNow(actorOf(request), request.params.id, request.body ?? undefined));

  app.get('/devices/:id/connectivity', {
    config: { permission: 'vault.connectivity.read' },
    schema: { tags, summary: "A device's current connectivity and its check history, newest first", security, params: deviceParams, querystring: historyQuery, response: { 200: connectivityAnswer, ...errors } },
  }, async (request) => connectivity.status(actorOf(request), request.params.id, request.query));

  app.get('/settings/connectivity', {
    config: { permission: 'vault.connectivity.read' },
    schema: { tags, summary: 'The schedule of connectivity checks: enabled, and every how many minutes each device is checked', security, response: { 200: z.object({ settings: connectivitySettingsView }), ...errors } },
  }, async (request) => ({ settings: await connectivity.getSettings(actorOf(request)) }));

  app.put('/settings/connectivity', {
    config: { permission: 'settings.connectivity.write' },
    schema: { tags, summary: 'Change the schedule of connectivity checks (the fields not sent keep their values)', security, body: connectivitySettingsBody, response: { 200: z.object({ settings: connectivitySettingsView }), ...errors } },
  }, async (request) => ({ settings: await connectivity.updateSettings(actorOf(request), request.body) }));
}
