import type { FastifyRequest } from 'fastify';
import type { Actor } from '../actor.js';
import { forbidden, unauthenticated } from '../errors.js';
import { CSRF_HEADER, SESSION_COOKIE, cookieOf, csrfMatches } from './cookies.js';
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

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The browser session cookie's token when the request has no Authorization header at all. A cookie is an
 * ambient credential (the browser sends it on any site's behalf), so an unsafe method must also prove it
 * comes from our own page: the X-CSRF-Token header bound to that session, else 403 CSRF_FAILED.
 */
function cookieToken(request: FastifyRequest): string | null {
  if (request.headers.authorization !== undefined) return null;
  const token = cookieOf(request, SESSION_COOKIE);
  if (!token) return null;
  if (!SAFE_METHODS.has(request.method) && !csrfMatches(token, request.headers[CSRF_HEADER])) {
    throw forbidden('CSRF_FAILED', 'A request authenticated by the session cookie must send the X-CSRF-Token header with the value of the custos_csrf cookie. Reload the page, or use Authorization: Bearer instead.');
  }
  return token;
}

/**
 * Requires a valid token on every route of this scope except those marked `config: { public: true }`; with
 * `sessionCookie`, a browser's custos_session cookie stands in for a missing Authorization header.
 */
export function requireBearer(scope: HttpApp, resolve: TokenResolver, hint: string, options: { sessionCookie?: boolean } = {}): void {
  scope.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.public) return;
    const token = bearerToken(request) ?? (options.sessionCookie ? cookieToken(request) : null);
    if (!token) throw unauthenticated('UNAUTHENTICATED', `This route needs a bearer token: ${hint}`);
    request.actor = await resolve(token, request);
  });
}

/** The actor of an authenticated request; routes of a bearer scope always have one. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw unauthenticated('UNAUTHENTICATED', 'This route needs a bearer token.');
  return request.actor;
}

/** The actor of a route that acts on the caller's own user account (me, logout, password, MFA): other kinds get 403. */
export function userActorOf(request: FastifyRequest): Actor {
  const actor = actorOf(request);
  if (actor.kind !== 'user') throw forbidden('USER_REQUIRED', "This route acts on a logged-in user's own account; an API client token cannot use it. Log in as a user.");
  return actor;
}
