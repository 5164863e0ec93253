import type { HttpApp } from '../../platform/http/create-app.js';
import { userActorOf } from '../../platform/http/authenticate.js';
import { clearedSessionCookies } from '../../platform/http/cookies.js';
import type { AuthService } from './auth.service.js';
import { activateBody, activateResponse, changePasswordBody, errorResponse, loginBody, loginResponse, meResponse } from './auth.schemas.js';

/** How hard login may be tried from one address for one account. */
export interface LoginRateLimit {
  max: number;
  windowMs: number;
}

/** The tenant authentication routes of DESIGN 4, registered inside the /api/v1 scope. */
export function registerAuthRoutes(app: HttpApp, deps: { auth: AuthService; loginRateLimit?: LoginRateLimit }): void {
  const { auth } = deps;
  const limit = deps.loginRateLimit ?? { max: 10, windowMs: 60_000 };

  app.post('/auth/activate', {
    config: { public: true, rateLimit: { max: limit.max, timeWindow: limit.windowMs } },
    schema: { tags: ['auth'], summary: 'Set a password with a one-time activation token', body: activateBody, response: { 200: activateResponse, 400: errorResponse } },
  }, async (request) => auth.activate(request.body, request.ip));

  app.post('/auth/login', {
    config: {
      public: true,
      // Keyed by address and account once the body is parsed: one attacker cannot lock others out, nor guess fast.
      rateLimit: {
        max: limit.max,
        timeWindow: limit.windowMs,
        hook: 'preHandler',
        keyGenerator: (request) => {
          const body = request.body as { tenant?: unknown; username?: unknown } | undefined;
          return `${request.ip}|${String(body?.tenant ?? '')}|${String(body?.username ?? '').toLowerCase()}`;
        },
      },
    },
    schema: { tags: ['auth'], summary: 'Log in and receive a session token', body: loginBody, response: { 200: loginResponse, 401: errorResponse, 403: errorResponse, 429: errorResponse } },
  }, async (request) => auth.login(request.body, request.ip));

  app.post('/auth/logout', {
    config: { allowRestricted: ['mfa_enrolment', 'password_change'] },
    schema: { tags: ['auth'], summary: 'End the current session', security: [{ tenantToken: [] }] },
  }, async (request, reply) => {
    await auth.logout(userActorOf(request));
    // A browser session (single sign-on) also loses its cookies; a bearer client ignores the header.
    return reply.header('set-cookie', clearedSessionCookies()).status(204).send();
  });

  app.post('/auth/password', {
    config: { allowRestricted: ['password_change'] },
    schema: { tags: ['auth'], summary: 'Change your own password (your other sessions end); answers 204', security: [{ tenantToken: [] }], body: changePasswordBody },
  }, async (request, reply) => {
    await auth.changePassword(userActorOf(request), request.body);
    return reply.status(204).send();
  });

  app.get('/auth/me', {
    config: { allowRestricted: ['mfa_enrolment', 'password_change'] },
    schema: { tags: ['auth'], summary: 'The current user and tenant', security: [{ tenantToken: [] }], response: { 200: meResponse, 401: errorResponse } },
  }, async (request) => auth.me(userActorOf(request)));
}
