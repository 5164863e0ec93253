import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { ScimService } from './scim.service.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse };

/** The token, shown exactly once. */
const tokenCreated = z.object({ token: z.string(), createdAt: z.string() });
/** Whether a token exists; never the token. */
const tokenStatus = z.object({ configured: z.boolean(), createdAt: z.string().nullable(), lastUsedAt: z.string().nullable(), endpoint: z.string() });

/** /api/v1/settings/scim: administrators create, inspect and revoke the token their identity provider uses. */
export function registerScimTokenRoutes(app: HttpApp, deps: { scim: ScimService }): void {
  const { tokens } = deps.scim;

  app.post('/settings/scim/token', {
    config: { permission: 'settings.scim.write' },
    schema: { tags: ['settings'], summary: 'Create the SCIM token (shown once; the previous token stops working at once)', security, body: z.strictObject({}).nullish(), response: { 201: tokenCreated, ...errors } },
  }, async (request, reply) => {
    const created = await tokens.create(actorOf(request));
    return reply.status(201).header('cache-control', 'no-store').send(created);
  });

  app.get('/settings/scim', {
    config: { permission: 'settings.scim.read' },
    schema: { tags: ['settings'], summary: 'Whether a SCIM token exists, when it was created and last used, and the SCIM endpoint', security, response: { 200: tokenStatus, ...errors } },
  }, async (request) => tokens.status(actorOf(request)));

  app.delete('/settings/scim/token', {
    config: { permission: 'settings.scim.write' },
    schema: { tags: ['settings'], summary: 'Revoke the SCIM token (answers 204)', security },
  }, async (request, reply) => {
    await tokens.revoke(actorOf(request));
    return reply.status(204).send();
  });
}
