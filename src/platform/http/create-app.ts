import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../log.js';
import { installErrorHandling } from './error-handler.js';
import { apiSecurityHeaders } from './security-headers.js';
import { compileResponseSerializer } from './serializer.js';
import { createMetrics, installMetrics, type Metrics } from './metrics.js';

/** The Fastify instance every feature registers routes on, typed by zod schemas. */
export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** What the HTTP platform needs from its surroundings. */
export interface HttpAppOptions {
  logger: Logger;
  version: string;
  trustedProxies?: string[];
  metrics?: Metrics;
}

export const BODY_LIMIT = 1024 * 1024;
const requestIdPattern = /^[A-Za-z0-9._-]{8,100}$/;

/**
 * Builds (never listens) the HTTP app: request ids, helmet headers, a 1 MiB body limit, zod validation and
 * serialisation (response schemas are allowlists), one error handler, metrics and the OpenAPI document.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    trustProxy: options.trustedProxies && options.trustedProxies.length > 0 ? options.trustedProxies : false,
    // false: genReqId below reads the header itself, so a hostile id is replaced rather than trusted.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && requestIdPattern.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();

  // The API speaks JSON only; anything else is 415, not a string that fails validation later.
  app.removeContentTypeParser('text/plain');
  // An empty body sent with a JSON content type (common from clients on POST /logout) means "no body".
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === '') return done(null, undefined);
    parseJson(request, text, done);
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(compileResponseSerializer);
  const headers = apiSecurityHeaders();
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    reply.header('x-request-id', request.id);
    done();
  });
  installErrorHandling(app);
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Custos API', version: options.version, description: 'Privileged access management vault.' },
      components: {
        securitySchemes: {
          tenantToken: { type: 'http', scheme: 'bearer', description: 'A session token (cst_...) from /api/v1/auth/login.' },
          operatorToken: { type: 'http', scheme: 'bearer', description: 'An operator token (cso_...) from `custos operator token create`.' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  installMetrics(app, options.metrics ?? createMetrics());
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
