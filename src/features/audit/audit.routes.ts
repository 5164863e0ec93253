import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { AuditExportService } from './audit-export.service.js';
import { checkpointView, exportQuery, listCheckpointsQuery, publicKeyView, searchQuery, searchResult, verifyResult } from './audit.schemas.js';
import type { AuditService } from './audit.service.js';
import type { CheckpointService } from './checkpoints.service.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** The tenant's audit trail (/api/v1/audit): search, verification and signed checkpoints of its chain. */
export function registerAuditRoutes(app: HttpApp, deps: { audit: AuditService; checkpoints: CheckpointService; exports: AuditExportService }): void {
  const { audit, checkpoints, exports } = deps;

  app.get('/audit/events', {
    config: { permission: 'audit.events.read' },
    schema: { tags: ['audit'], summary: "Search the tenant's audit events, newest first; pass nextCursor as cursor for the next page", security, querystring: searchQuery, response: { 200: searchResult, ...errors } },
  }, async (request) => audit.search(actorOf(request), request.query));

  app.get('/audit/export', {
    config: { permission: 'audit.events.export' },
    schema: { tags: ['audit'], summary: 'Stream the events (same filters, plus fromSeq/toSeq) oldest first as CSV or JSON lines; JSON lines carry the signed checkpoints and verify offline (custos audit verify --file)', security, querystring: exportQuery, response: { 400: errorResponse, 403: errorResponse } },
  }, async (request, reply) => {
    const file = exports.exportEvents(actorOf(request), request.query);
    return reply.type(file.contentType).header('content-disposition', `attachment; filename="${file.filename}"`).header('cache-control', 'no-store').send(file.stream as never);
  });

  app.get('/audit/verify', {
    config: { permission: 'audit.events.read' },
    schema: { tags: ['audit'], summary: "Recompute the tenant's whole audit chain and check its newest signed checkpoint; names the first event altered, removed or reordered", security, response: { 200: verifyResult, ...errors } },
  }, async (request) => audit.verify(actorOf(request)));

  app.get('/audit/checkpoints/public-key', {
    config: { permission: 'audit.events.read' },
    schema: { tags: ['audit'], summary: "The tenant's Ed25519 checkpoint public key (PEM) and its key id, to verify exports offline", security, response: { 200: publicKeyView, ...errors } },
  }, async (request) => checkpoints.publicKey(actorOf(request)));

  app.get('/audit/checkpoints', {
    config: { permission: 'audit.events.read' },
    schema: { tags: ['audit'], summary: 'Signed checkpoints of the chain head, newest first', security, querystring: listCheckpointsQuery, response: { 200: z.object({ checkpoints: z.array(checkpointView) }), ...errors } },
  }, async (request) => ({ checkpoints: await checkpoints.list(actorOf(request), request.query) }));

  app.post('/audit/checkpoints', {
    config: { permission: 'audit.checkpoints.write' },
    schema: { tags: ['audit'], summary: 'Sign a checkpoint of the chain head now (the head already signed answers that checkpoint)', security, response: { 201: z.object({ checkpoint: checkpointView }), ...errors } },
  }, async (request, reply) => reply.status(201).send({ checkpoint: await checkpoints.signOnDemand(actorOf(request)) }));
}
