import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { CredentialPolicyService } from './credential-policies.service.js';
import { createPolicyBody, generateBody, generatedView, matchQuery, matchView, patchPolicyBody, policyParams, policyView } from './credential-policies.schemas.js';

const security = [{ tenantToken: [] }];
const tags = ['credential-policies'];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/** Credential policies (/api/v1/credential-policies): rules matched to credentials, a preview of the match, and the password generator. */
export function registerCredentialPolicyRoutes(app: HttpApp, deps: { credentialPolicies: CredentialPolicyService }): void {
  const { credentialPolicies: policies } = deps;

  app.post('/credential-policies', {
    config: { permission: 'vault.credential-policies.write' },
    schema: { tags, summary: 'Add a credential policy (at most 200 per tenant)', security, body: createPolicyBody, response: { 201: z.object({ policy: policyView }), ...errors } },
  }, async (request, reply) => reply.status(201).send({ policy: await policies.create(actorOf(request), request.body) }));

  app.get('/credential-policies', {
    config: { permission: 'vault.credential-policies.read' },
    schema: { tags, summary: 'Every credential policy in evaluation order (highest priority, then oldest, first)', security, response: { 200: z.object({ policies: z.array(policyView) }), ...errors } },
  }, async (request) => ({ policies: await policies.list(actorOf(request)) }));

  // Registered before /:id so "match" is never read as an id.
  app.get('/credential-policies/match', {
    config: { permission: 'vault.credential-policies.read' },
    schema: { tags, summary: 'Which policy applies to a credential (by credentialId, or by attributes; tags comma-separated)', security, querystring: matchQuery, response: { 200: matchView, ...errors } },
  }, async (request) => policies.match(actorOf(request), request.query));

  app.post('/credential-policies/generate', {
    config: { permission: 'vault.credentials.write' },
    schema: { tags, summary: 'Generate a password following the policy that applies (shown once, never stored)', security, body: generateBody, response: { 200: generatedView, ...errors } },
  }, async (request) => policies.generate(actorOf(request), request.body));

  app.get('/credential-policies/:id', {
    config: { permission: 'vault.credential-policies.read' },
    schema: { tags, summary: 'One credential policy', security, params: policyParams, response: { 200: z.object({ policy: policyView }), ...errors } },
  }, async (request) => ({ policy: await policies.get(actorOf(request), request.params.id) }));

  app.patch('/credential-policies/:id', {
    config: { permission: 'vault.credential-policies.write' },
    schema: { tags, summary: 'Change name, priority, filters or rules (filters and rules are replaced whole)', security, params: policyParams, body: patchPolicyBody, response: { 200: z.object({ policy: policyView }), ...errors } },
  }, async (request) => ({ policy: await policies.update(actorOf(request), request.params.id, request.body) }));

  app.delete('/credential-policies/:id', {
    config: { permission: 'vault.credential-policies.write' },
    schema: { tags, summary: 'Remove a credential policy (answers 204)', security, params: policyParams },
  }, async (request, reply) => {
    await policies.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });
}
