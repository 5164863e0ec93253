import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { errorResponse } from '../identity/auth.schemas.js';
import { parseCredentialRef } from './credential-refs.js';
import { revealBody, revealedSecretView, revealParams } from './reveal.schemas.js';
import type { RevealService } from './reveal.service.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };

/**
 * POST /api/v1/credentials/{ref}/reveal, ref a credential id or `username@device-name`: the current secret, as the
 * access policies (users) or explicit grants (API clients) allow it (answers are never cached: no-store).
 */
export function registerRevealRoutes(app: HttpApp, deps: { reveal: RevealService }): void {
  app.post('/credentials/:id/reveal', {
    config: { permission: 'vault.credentials.use' },
    schema: {
      tags: ['credentials'], summary: "Reveal a credential's current secret (by id or username@device-name) as the access policies or an API client's grants allow it (justification or approved request where asked; audited before the answer leaves)",
      security, params: revealParams, body: revealBody, response: { 200: revealedSecretView, ...errors },
    },
  }, async (request) => deps.reveal.reveal(actorOf(request), parseCredentialRef(request.params.id), request.body));
}
