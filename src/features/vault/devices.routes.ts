import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { DeviceService } from './devices.service.js';
import { createDeviceBody, deviceParams, deviceView, listDevicesQuery, patchDeviceBody } from './devices.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
const one = z.object({ device: deviceView });

/** The tenant's devices (/api/v1/devices): the servers, databases and appliances its credentials belong to. */
export function registerDeviceRoutes(app: HttpApp, deps: { devices: DeviceService }): void {
  const { devices } = deps;

  app.post('/devices', {
    config: { permission: 'vault.devices.write' },
    schema: { tags: ['devices'], summary: 'Add a device (name unique in the tenant)', security, body: createDeviceBody, response: { 201: one, ...errors } },
  }, async (request, reply) => reply.status(201).send({ device: await devices.create(actorOf(request), request.body) }));

  app.get('/devices', {
    config: { permission: 'vault.devices.read' },
    schema: { tags: ['devices'], summary: 'List devices: search with q (name, address, vendor, model, description), filter by any attribute; cursor pagination', security, querystring: listDevicesQuery, response: { 200: z.object({ devices: z.array(deviceView), nextCursor: z.string().nullable() }), ...errors } },
  }, async (request) => devices.list(actorOf(request), request.query));

  app.get('/devices/:id', {
    config: { permission: 'vault.devices.read' },
    schema: { tags: ['devices'], summary: 'One device', security, params: deviceParams, response: { 200: one, ...errors } },
  }, async (request) => ({ device: await devices.get(actorOf(request), request.params.id) }));

  app.put('/devices/:id', {
    config: { permission: 'vault.devices.write' },
    schema: { tags: ['devices'], summary: 'Replace a device: omitted optional fields take their defaults', security, params: deviceParams, body: createDeviceBody, response: { 200: one, ...errors } },
  }, async (request) => ({ device: await devices.replace(actorOf(request), request.params.id, request.body) }));

  app.patch('/devices/:id', {
    config: { permission: 'vault.devices.write' },
    schema: { tags: ['devices'], summary: 'Change the fields sent (null removes an optional label; protocols and tags replace the sets)', security, params: deviceParams, body: patchDeviceBody, response: { 200: one, ...errors } },
  }, async (request) => ({ device: await devices.update(actorOf(request), request.params.id, request.body) }));

  app.delete('/devices/:id', {
    config: { permission: 'vault.devices.write' },
    schema: { tags: ['devices'], summary: 'Remove a device that holds no credentials (answers 204)', security, params: deviceParams },
  }, async (request, reply) => {
    await devices.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });
}
