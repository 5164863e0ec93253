import type { HttpApp } from '../../platform/http/create-app.js';
import { actorOf } from '../../platform/http/authenticate.js';
import { cookieOf, secureCookiesFor, serializeCookie, sessionCookies } from '../../platform/http/cookies.js';
import { errorResponse } from '../identity/auth.schemas.js';
import type { SsoLoginService } from './sso-login.service.js';
import type { SsoSettingsService } from './sso-settings.service.js';
import { ssoCallbackQuery, ssoSettingsBody, ssoSettingsView, ssoStartQuery } from './sso.schemas.js';

const security = [{ tenantToken: [] }];
const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 404: errorResponse, 409: errorResponse };
/** The browser-binding cookie of logins in flight; sent only to the SSO routes. */
export const BROWSER_COOKIE = 'custos_sso';
const BROWSER_COOKIE_PATH = '/api/v1/auth/sso';

/** How often one address may start or finish single sign-on logins (each start writes a row). */
export interface SsoRateLimit {
  max: number;
  windowMs: number;
}

/** Single sign-on: GET|PUT /settings/sso, and the public browser routes /auth/sso/start and /auth/sso/callback. */
export function registerSsoRoutes(app: HttpApp, deps: { settings: SsoSettingsService; login: SsoLoginService; publicUrl: string; rateLimit?: SsoRateLimit }): void {
  const secure = secureCookiesFor(deps.publicUrl);
  const limit = deps.rateLimit ?? { max: 60, windowMs: 60_000 };
  const rateLimit = { max: limit.max, timeWindow: limit.windowMs, keyGenerator: (request: { ip: string }) => request.ip };

  app.get('/settings/sso', {
    config: { permission: 'settings.sso.read' },
    schema: { tags: ['settings'], summary: "The tenant's single sign-on (OpenID Connect) settings; never the client secret", security, response: { 200: ssoSettingsView, 403: errorResponse } },
  }, async (request) => deps.settings.get(actorOf(request)));

  app.put('/settings/sso', {
    config: { permission: 'settings.sso.write' },
    schema: { tags: ['settings'], summary: 'Replace the single sign-on settings (the issuer is discovered when enabled)', security, body: ssoSettingsBody, response: { 200: ssoSettingsView, ...errors } },
  }, async (request) => deps.settings.update(actorOf(request), request.body));

  app.get('/auth/sso/start', {
    config: { public: true, rateLimit },
    schema: { tags: ['auth'], summary: "Start single sign-on: redirects (302) to the tenant's identity provider", querystring: ssoStartQuery, response: { 400: errorResponse, 403: errorResponse, 404: errorResponse } },
  }, async (request, reply) => {
    const started = await deps.login.start(request.query, request.ip, cookieOf(request, BROWSER_COOKIE));
    reply.header('set-cookie', serializeCookie(BROWSER_COOKIE, started.browser, { maxAgeSeconds: started.maxAgeSeconds, httpOnly: true, secure, path: BROWSER_COOKIE_PATH }));
    return reply.redirect(started.location, 302);
  });

  app.get('/auth/sso/callback', {
    config: { public: true, rateLimit },
    schema: { tags: ['auth'], summary: 'Where the identity provider sends the browser back: opens a cookie session and redirects (302)', querystring: ssoCallbackQuery, response: errors },
  }, async (request, reply) => {
    const rawQuery = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    const session = await deps.login.callback({ query: request.query, rawQuery }, request.ip, cookieOf(request, BROWSER_COOKIE));
    reply.header('set-cookie', sessionCookies(session.token, session.maxAgeSeconds, secure));
    return reply.redirect(session.returnTo, 302);
  });
}
