import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from './create-app.js';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { DomainError, type ErrorKind } from '../errors.js';

/** The one place an error kind becomes an HTTP status. */
const statusOf: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** Fastify's own client errors, renamed to stable codes a client can rely on. */
const frameworkCodes: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than the 1 MiB limit.' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the body as application/json.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', message: 'The body is empty but Content-Type says JSON; send a JSON object or no Content-Type.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', message: 'The body is not valid JSON.' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'BAD_REQUEST', message: 'The Content-Length header does not match the body.' },
};

/** Sends the contract's error shape: `{"error":{"code","message"},"requestId"}`. */
export function sendError(reply: FastifyReply, status: number, code: string, message: string, details?: unknown) {
  return reply.status(status).send({ error: { code, message, ...(details ? { details } : {}) }, requestId: reply.request.id });
}

function describeValidation(error: FastifyError) {
  const issues = (error.validation ?? []).map((v) => {
    const field = v.instancePath.split('/').filter(Boolean).join('.');
    return { path: [error.validationContext, field].filter(Boolean).join('.'), message: v.message ?? 'is invalid' };
  });
  const summary = issues.map((i) => `${i.path || 'request'}: ${i.message}`).join('; ');
  return { issues, summary };
}

/** Maps every error to a status and stable code; details of 5xx stay in the log, keyed by request id. */
export function installErrorHandling(app: HttpApp): void {
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) =>
    sendError(reply, 404, 'NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}. See /openapi.json for the API.`),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof DomainError) {
      const status = statusOf[error.kind];
      if (status >= 500) {
        request.log.error({ err: { code: error.code, message: error.message } }, 'request failed');
        // Internal codes (SEAL_INVALID...) stay in the log; the caller learns only that it was not their fault.
        if (status === 503) return sendError(reply, status, error.code, error.message);
        return sendError(reply, status, 'INTERNAL', 'Something went wrong on our side. Quote the requestId to your provider.');
      }
      if (error.kind === 'rate_limited' && error.details?.retryAfterSeconds) reply.header('retry-after', String(error.details.retryAfterSeconds));
      return sendError(reply, status, error.code, error.message, error.details && error.kind !== 'rate_limited' ? error.details : undefined);
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const { issues, summary } = describeValidation(error);
      return sendError(reply, 400, 'VALIDATION_FAILED', `The request is invalid: ${summary}`, { issues });
    }
    if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response did not match its schema');
      return sendError(reply, 500, 'INTERNAL', 'Something went wrong on our side. Quote the requestId to your provider.');
    }
    const known = error.code ? frameworkCodes[error.code] : undefined;
    if (known) return sendError(reply, known.status, known.code, known.message);
    if (error.statusCode === 429) return sendError(reply, 429, 'RATE_LIMITED', 'Too many requests; wait and try again.');
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, error.statusCode, 'BAD_REQUEST', 'The request could not be understood.');
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 500, 'INTERNAL', 'Something went wrong on our side. Quote the requestId to your provider.');
  });
}
