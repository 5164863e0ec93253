import type { FastifyRequest } from 'fastify';
import type { Actor } from '../actor.js';
import { unauthenticated } from '../errors.js';
import type { HttpApp } from './create-app.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made the request, set by the authentication hook of the plane the route belongs to. */
    actor?: Actor;
  }
  interface FastifyContextConfig {
    /** The route answers without a bearer token (login, activate). */
    public?: boolean;
  }
}

/** Turns a presented bearer token into an actor, or throws the reason it is refused. */
export type TokenResolver = (token: string, request: FastifyRequest) => Promise<Actor>;

/** The bearer token of a request, or null when the Authorization header carries none. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}

/** Requires a valid token on every route of this scope except those marked `config: { public: true }`. */
export function requireBearer(scope: HttpApp, resolve: TokenResolver, hint: string): void {
  scope.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    const token = bearerToken(request);
    if (!token) throw unauthenticated('UNAUTHENTICATED', `This route needs a bearer token: ${hint}`);
    request.actor = await resolve(token, request);
  });
}

/** The actor of an authenticated request; routes of a bearer scope always have one. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw unauthenticated('UNAUTHENTICATED', 'This route needs a bearer token.');
  return request.actor;
}
