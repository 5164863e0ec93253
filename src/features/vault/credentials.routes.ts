import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { CredentialHistoryService } from './credentials.history.js';
import type { CredentialService } from './credentials.service.js';
import {
  createCredentialBody, credentialParams, credentialView, historyQuery, listCredentialsQuery, patchCredentialBody, revealedVersionView, revealVersionBody, setSecretBody, totpView, versionParams, versionView,
} from './credentials.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
const one = z.object({ credential: credentialView });
const readOrUse = ['vault.credentials.read', 'vault.credentials.use'];

/** The tenant's credentials (/api/v1/credentials): privileged accounts on devices, their sealed secrets and history. */
export function registerCredentialRoutes(app: HttpApp, deps: { credentials: CredentialService; history: CredentialHistoryService }): void {
  const { credentials, history } = deps;

  app.post('/credentials', {
    config: { permission: 'vault.credentials.write' },
    schema: { tags: ['credentials'], summary: 'Add a credential to a device ((deviceId, username) unique); the answer never carries the secret', security, body: createCredentialBody, response: { 201: one, ...errors } },
  }, async (request, reply) => reply.status(201).send({ credential: await credentials.create(actorOf(request), request.body) }));

  // Either permission: vault.credentials.read sees every credential, vault.credentials.use what access policies grant.
  app.get('/credentials', {
    config: { permission: readOrUse },
    schema: { tags: ['credentials'], summary: 'List credentials (all with vault.credentials.read, otherwise those access policies grant): search with q, filter by credential and device attributes; cursor pagination', security, querystring: listCredentialsQuery, response: { 200: z.object({ credentials: z.array(credentialView), nextCursor: z.string().nullable() }), ...errors } },
  }, async (request) => credentials.list(actorOf(request), request.query));

  app.get('/credentials/:id', {
    config: { permission: readOrUse },
    schema: { tags: ['credentials'], summary: 'One credential (never its secret); one no access policy grants a caller without vault.credentials.read answers 404', security, params: credentialParams, response: { 200: one, ...errors } },
  }, async (request) => ({ credential: await credentials.get(actorOf(request), request.params.id) }));

  app.put('/credentials/:id', {
    config: { permission: 'vault.credentials.write' },
    schema: { tags: ['credentials'], summary: 'Replace a credential: omitted attributes take their defaults, omitted secrets are kept; a secret sent makes a new version', security, params: credentialParams, body: createCredentialBody, response: { 200: one, ...errors } },
  }, async (request) => ({ credential: await credentials.replace(actorOf(request), request.params.id, request.body) }));

  app.patch('/credentials/:id', {
    config: { permission: 'vault.credentials.write' },
    schema: { tags: ['credentials'], summary: 'Change the fields sent (null removes owner, notes or TOTP seed); a secret sent makes a new version', security, params: credentialParams, body: patchCredentialBody, response: { 200: one, ...errors } },
  }, async (request) => ({ credential: await credentials.update(actorOf(request), request.params.id, request.body) }));

  app.delete('/credentials/:id', {
    config: { permission: 'vault.credentials.write' },
    schema: { tags: ['credentials'], summary: 'Remove a credential with every version of its secret (answers 204)', security, params: credentialParams },
  }, async (request, reply) => {
    await credentials.remove(actorOf(request), request.params.id);
    return reply.status(204).send();
  });

  app.post('/credentials/:id/secret', {
    config: { permission: 'vault.credentials.write' },
    schema: { tags: ['credentials'], summary: 'Set a new secret: a new version is sealed and the previous one kept in the history', security, params: credentialParams, body: setSecretBody, response: { 200: one, ...errors } },
  }, async (request) => ({ credential: await credentials.changeSecret(actorOf(request), request.params.id, request.body) }));

  app.get('/credentials/:id/history', {
    config: { permission: 'vault.credentials.read' },
    schema: { tags: ['credentials'], summary: 'The versions of the secret, newest first: who set each, when and why (never a secret)', security, params: credentialParams, querystring: historyQuery, response: { 200: z.object({ versions: z.array(versionView), nextCursor: z.number().nullable() }), ...errors } },
  }, async (request) => history.history(actorOf(request), request.params.id, request.query));

  app.post('/credentials/:id/history/:version/reveal', {
    config: { permission: 'vault.credential-history.reveal' },
    schema: { tags: ['credentials'], summary: 'Reveal an OLD version of the secret, with a justification (audited before the answer leaves)', security, params: versionParams, body: revealVersionBody, response: { 200: revealedVersionView, ...errors } },
  }, async (request) => history.revealVersion(actorOf(request), request.params.id, request.params.version, request.body?.justification));

  // For now anyone who may read credentials sees their TOTP codes; access policies will govern this route.
  app.get('/credentials/:id/totp', {
    config: { permission: 'vault.credentials.read' },
    schema: { tags: ['credentials'], summary: 'The current TOTP code of the credential and the seconds it stays valid (audited; never the seed)', security, params: credentialParams, response: { 200: totpView, ...errors } },
  }, async (request) => history.totp(actorOf(request), request.params.id));
}
