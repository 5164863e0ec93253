import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { AccessPolicyService } from './access-policies.service.js';
import { accessPolicyParams, accessPolicyView, createAccessPolicyBody, evaluateQuery, evaluationView, listAccessPoliciesQuery, patchAccessPolicyBody } from './access-policies.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
const tags = ['access-policies'];

/** Access policies (/api/v1/access-policies): which users and groups may use which credentials, and how. */
export function registerAccessPolicyRoutes(app: HttpApp, deps: { accessPolicies: AccessPolicyService }): void {
  const { accessPolicies } = deps;

  app.post('/access-policies', {
    config: { permission: 'access.policies.write' },
    schema: { tags, summary: 'Create an access policy: members, filters, and per action (reveal, session, history) how it is granted', security, body: createAccessPolicyBody, response: { 201: z.object({ accessPolicy: accessPolicyView }), ...errors } },
  }, async (request, reply) => reply.status(201).send({ accessPolicy: await accessPolicies.create(actorOf(request), request.body) }));

  app.get('/access-policies', {
    config: { permission: 'access.policies.read' },
    schema: { tags, summary: 'List access policies in creation order: filter by userId or groupId (direct members), q (name), enabled; cursor pagination', security, querystring: listAccessPoliciesQuery, response: { 200: z.object({ accessPolicies: z.array(accessPolicyView), nextCursor: z.string().nullable() }), ...errors } },
  }, async (request) => accessPolicies.list(actorOf(request), request.query));

  // Registered before /:id for readability; the router prefers the static segment either way.
  app.get('/access-policies/evaluate', {
    config: { permission: 'access.policies.read' },
    schema: { tags, summary: "Preview: the decision a user would get for a credential and action now, and the policies that decided it", security, querystring: evaluateQuery, response: { 200: evaluationView, ...errors } },
  }, async (request) => accessPolicies.evaluate(actorOf(request), request.query));

  app.get('/access-policies/:id', {
    config: { permission: 'access.policies.read' },
    schema: { tags, summary: 'One access policy', security, params: accessPolicyParams, response: { 200: z.object({ accessPolicy: accessPolicyView }), ...errors } },
  }, async (request) => ({ accessPolicy: await accessPolicies.get(actorOf(request), request.params.id) }));

  app.patch('/access-policies/:id', {
    config: { permission: 'access.policies.write' },
    schema: { tags, summary: 'Change name, description, enabled, members, filters or actions (each of the last three replaces the stored value)', security, params: accessPolicyParams, body: patchAccessPolicyBody, response: { 200: z.object({ accessPolicy: accessPolicyView }), ...errors } },
  }, async (request) => ({ accessPolicy: await accessPolicies.update(actorOf(request), request.params.id, request.body) }));

  app.delete('/access-policies/:id', {
    config: { permission: 'access.policies.write' },
    schema: { tags, summary: 'Delete an access policy (answers 204)', security, params: accessPolicyParams },
  }, async (request, reply) => {
    await accessPolicies.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });
}
