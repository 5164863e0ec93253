import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { ApprovalService } from './access-requests.approvals.js';
import { accessRequestAnswer, accessRequestList, accessRequestParams, approveBody, createAccessRequestBody, denyBody, listAccessRequestsQuery } from './access-requests.schemas.js';
import type { AccessRequestService } from './access-requests.service.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** Access requests: asking for the use of a credential an approval policy governs, the approvers' inbox and their decisions. */
export function registerAccessRequestRoutes(app: HttpApp, deps: { requests: AccessRequestService; approvals: ApprovalService }): void {
  const { requests, approvals } = deps;

  app.post('/access-requests', {
    config: { permission: 'vault.credentials.use' },
    schema: { tags: ['access'], summary: 'Ask for the use of a credential under an approval policy (emergency: true takes break-glass access at once where the policies allow it)', security, body: createAccessRequestBody, response: { 201: accessRequestAnswer, ...errors } },
  }, async (request, reply) => reply.status(201).send(await requests.create(actorOf(request), request.body)));

  // No route permission: everyone sees their own requests and their inbox; every request needs access.requests.read.
  app.get('/access-requests', {
    schema: { tags: ['access'], summary: 'Your access requests (role=requester), those waiting for your decision (role=approver), or every one (role=all)', security, querystring: listAccessRequestsQuery, response: { 200: accessRequestList, ...errors } },
  }, async (request) => requests.list(actorOf(request), request.query));

  app.get('/access-requests/:id', {
    schema: { tags: ['access'], summary: 'One access request, to its requester, its approvers and holders of access.requests.read', security, params: accessRequestParams, response: { 200: accessRequestAnswer, ...errors } },
  }, async (request) => requests.get(actorOf(request), request.params.id));

  app.post('/access-requests/:id/approve', {
    schema: { tags: ['access'], summary: "Approve the request's current stage (never your own request, once per person)", security, params: accessRequestParams, body: approveBody, response: { 200: accessRequestAnswer, ...errors } },
  }, async (request) => approvals.approve(actorOf(request), request.params.id, request.body?.comment ?? null));

  app.post('/access-requests/:id/deny', {
    schema: { tags: ['access'], summary: 'Deny the request with a comment; it is closed', security, params: accessRequestParams, body: denyBody, response: { 200: accessRequestAnswer, ...errors } },
  }, async (request) => approvals.deny(actorOf(request), request.params.id, request.body.comment));

  app.post('/access-requests/:id/cancel', {
    schema: { tags: ['access'], summary: 'Cancel your request (pending) or end its approved window now', security, params: accessRequestParams, body: z.strictObject({}).nullish(), response: { 200: accessRequestAnswer, ...errors } },
  }, async (request) => requests.cancel(actorOf(request), request.params.id));
}
