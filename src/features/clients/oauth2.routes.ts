import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../platform/http/create-app.js';
import { DomainError } from '../../platform/errors.js';
import type { ClientService } from './clients.service.js';
import { oauthErrorResponse, tokenRequestBody, tokenResponse } from './clients.schemas.js';

/** How many token requests one source address may make in a window (the login limit's option style). */
export interface TokenRateLimit {
  max: number;
  windowMs: number;
}

const oauthCodes = new Set(['INVALID_REQUEST', 'INVALID_CLIENT', 'UNSUPPORTED_GRANT_TYPE', 'INVALID_SCOPE', 'UNAUTHORIZED_CLIENT']);
const invalidClient = (message: string) => new DomainError('INVALID_CLIENT', message, 'unauthenticated');
const invalidRequest = (message: string) => new DomainError('INVALID_REQUEST', message, 'invalid');

/** application/x-www-form-urlencoded into an object; a repeated parameter becomes an array (refused by the schema). */
function parseForm(text: string): Record<string, string | string[]> {
  const fields = new Map<string, string[]>();
  for (const [key, value] of new URLSearchParams(text)) fields.set(key, [...(fields.get(key) ?? []), value]);
  // fromEntries defines own properties, so a parameter named __proto__ stays a plain field.
  return Object.fromEntries([...fields].map(([key, values]) => [key, values.length === 1 ? values[0]! : values]));
}

/** Form-decodes one half of a Basic credential (RFC 6749 section 2.3.1 encodes both before base64). */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw invalidClient('The Basic credentials are not correctly form-encoded.');
  }
}

/** The client's id and secret from HTTP Basic (client_secret_basic) or the body (client_secret_post), never both. */
function clientCredentials(header: string | undefined, body: { client_id?: string; client_secret?: string }) {
  if (header !== undefined) {
    const match = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header);
    if (!match) throw invalidClient('Authenticate with HTTP Basic (client_id:client_secret) or send client_id and client_secret in the body.');
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw invalidClient('The Basic credentials must be client_id:client_secret.');
    const clientId = formDecode(decoded.slice(0, colon));
    if (body.client_secret !== undefined || (body.client_id !== undefined && body.client_id !== clientId)) {
      throw invalidRequest('Use one client authentication method: HTTP Basic or client_id and client_secret in the body, not both.');
    }
    return { clientId, clientSecret: formDecode(decoded.slice(colon + 1)) };
  }
  if (!body.client_id || !body.client_secret) throw invalidClient('Client authentication is required: HTTP Basic, or client_id and client_secret in the body.');
  return { clientId: body.client_id, clientSecret: body.client_secret };
}

/** RFC 6749 section 5.2 errors on the token route: {"error","error_description"}, never cached. */
function sendOAuthError(reply: FastifyReply, status: number, error: string, description: string) {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  // Section 5.2: invalid_client is 401 and names the scheme a client can authenticate with.
  if (error === 'invalid_client') reply.header('www-authenticate', 'Basic realm="custos", charset="UTF-8"');
  return reply.status(status).send({ error, error_description: description });
}

function oauthErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DomainError && oauthCodes.has(error.code)) {
    return sendOAuthError(reply, error.code === 'INVALID_CLIENT' ? 401 : 400, error.code.toLowerCase(), error.message);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => `${v.instancePath.split('/').filter(Boolean).join('.') || 'body'}: ${v.message ?? 'is invalid'}`);
    return sendOAuthError(reply, 400, 'invalid_request', `The request is invalid (${issues.join('; ')}). Send each parameter once, as a string.`);
  }
  if (error.statusCode === 429) {
    return sendOAuthError(reply, 429, 'slow_down', `Too many token requests from your address; wait ${String(reply.getHeader('retry-after') ?? 60)} seconds and reuse your token until it expires.`);
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return sendOAuthError(reply, 400, 'invalid_request', 'Send the token request as application/x-www-form-urlencoded (or a JSON object) of at most 16 KiB.');
  }
  request.log.error({ err: error }, 'token request failed');
  return sendOAuthError(reply, 500, 'server_error', `Something went wrong on our side. Quote the request id ${request.id} to your provider.`);
}

/**
 * POST /api/v1/oauth2/token: the OAuth2 client credentials grant (RFC 6749 section 4.4), public, rate-limited per
 * source address. It lives in its own child context so its form parser and RFC error shape touch no other route.
 */
export function registerOAuth2Routes(app: HttpApp, deps: { clients: ClientService; rateLimit?: TokenRateLimit }): void {
  const limit = deps.rateLimit ?? { max: 30, windowMs: 60_000 };
  void app.register(async (child: HttpApp) => {
    child.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, parseForm(body as string)));
    child.setErrorHandler(oauthErrorHandler);
    child.post('/oauth2/token', {
      bodyLimit: 16 * 1024,
      config: { public: true, rateLimit: { max: limit.max, timeWindow: limit.windowMs, keyGenerator: (request) => request.ip } },
      schema: {
        tags: ['oauth2'],
        summary: 'Get an access token with the client credentials grant (form or JSON; HTTP Basic or client_id/client_secret in the body)',
        body: tokenRequestBody,
        response: { 200: tokenResponse, 400: oauthErrorResponse, 401: oauthErrorResponse, 429: oauthErrorResponse },
      },
    }, async (request, reply) => {
      const body = request.body ?? {};
      const credentials = clientCredentials(request.headers.authorization, body);
      const token = await deps.clients.requestToken({ ...credentials, grantType: body.grant_type, scope: body.scope }, request.ip);
      reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
      return token;
    });
  });
}
