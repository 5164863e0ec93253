import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { Actor } from '../../platform/actor.js';
import { DomainError, type ErrorKind } from '../../platform/errors.js';
import { requireBearer } from '../../platform/http/authenticate.js';
import type { HttpApp } from '../../platform/http/create-app.js';
import { SCIM } from './scim-protocol.js';

/** What every /scim/v2 answer is (RFC 7644 section 3.1). */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

const statusOf: Record<ErrorKind, number> = {
  invalid: 400, unauthenticated: 401, forbidden: 403, not_found: 404, conflict: 409, gone: 410, too_large: 413, rate_limited: 429, unavailable: 503, internal: 500,
};

/** Attribute names are case-insensitive (RFC 7643 section 2.1): known names are rewritten to their canonical case. */
const canonicalNames = new Map(
  ['schemas', 'id', 'externalId', 'userName', 'name', 'formatted', 'givenName', 'familyName', 'displayName', 'emails', 'value', 'type', 'primary', 'display', 'active', 'password', 'groups', 'members', 'meta', 'Operations', 'op', 'path', '$ref']
    .map((name) => [name.toLowerCase(), name]),
);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  // fromEntries defines own properties, so an attribute named __proto__ stays a plain (unknown) field.
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [canonicalNames.get(key.toLowerCase()) ?? key, canonical(inner)]));
}

/** Sends an RFC 7644 section 3.12 error; 401 also names the scheme (RFC 6750). */
export function sendScimError(reply: FastifyReply, status: number, detail: string, scimType?: string) {
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="custos-scim"');
  return reply.status(status).type(SCIM_CONTENT_TYPE).send({ schemas: [SCIM.error], status: String(status), ...(scimType ? { scimType } : {}), detail });
}

function scimErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof DomainError) {
    const status = statusOf[error.kind];
    if (status >= 500 && status !== 503) {
      request.log.error({ err: { code: error.code, message: error.message } }, 'SCIM request failed');
      return sendScimError(reply, 500, `Something went wrong on our side. Quote the request id ${request.id} to your provider.`);
    }
    const scimType = typeof error.details?.scimType === 'string' ? error.details.scimType : undefined;
    return sendScimError(reply, status, error.message, scimType);
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({ path: [error.validationContext, v.instancePath.split('/').filter(Boolean).join('.')].filter(Boolean).join('.'), message: v.message ?? 'is invalid', params: v.params as { params?: { scimType?: string } } }));
    // A filter the parser refused, or an unknown attribute, says so; any other bad value is invalidValue.
    const scimType = issues.map((i) => i.params.params?.scimType).find(Boolean) ?? 'invalidValue';
    return sendScimError(reply, 400, `The request is invalid: ${issues.map((i) => `${i.path || 'request'}: ${i.message}`).join('; ')}`, scimType);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return sendScimError(reply, 400, 'The body is not valid JSON.', 'invalidSyntax');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return sendScimError(reply, 415, 'Send the body as application/scim+json (or application/json).');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return sendScimError(reply, 413, 'The request body is larger than the 1 MiB limit.');
  }
  if (error.statusCode === 429) return sendScimError(reply, 429, `Too many SCIM requests; retry after ${String(reply.getHeader('retry-after') ?? 60)} seconds.`);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return sendScimError(reply, error.statusCode, 'The request could not be understood.', 'invalidSyntax');
  request.log.error({ err: error }, 'unhandled SCIM error');
  return sendScimError(reply, 500, `Something went wrong on our side. Quote the request id ${request.id} to your provider.`);
}

/**
 * Makes an encapsulated scope speak SCIM: its own bearer check (the SCIM token, nothing else), bodies as
 * application/scim+json or application/json, answers as application/scim+json, and RFC 7644 errors for
 * everything, including unknown routes. Nothing here touches the other planes.
 */
export function installScimScope(scope: HttpApp, authenticate: (token: string, ip: string | null) => Promise<Actor>): void {
  const parseJson = scope.getDefaultJsonParser('error', 'error');
  scope.addContentTypeParser('application/scim+json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, done);
  });
  scope.addHook('onRequest', (_request, reply, done) => {
    reply.type(SCIM_CONTENT_TYPE);
    done();
  });
  requireBearer(scope, (token, request) => authenticate(token, request.ip), 'create a SCIM token with POST /api/v1/settings/scim/token and send Authorization: Bearer <token>.');
  scope.addHook('preValidation', (request, _reply, done) => {
    if (request.body !== undefined) request.body = canonical(request.body);
    done();
  });
  scope.setErrorHandler(scimErrorHandler);
  scope.setNotFoundHandler((request, reply) => sendScimError(reply, 404, `No SCIM endpoint ${request.method} ${request.url.split('?')[0]}; see /scim/v2/ResourceTypes.`));
}
