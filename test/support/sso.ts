import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { TestApp } from './app.js';
import { bearer } from './app.js';
import { CookieJar, signInAtIdp } from './browser-jar.js';
import type { TestIdp } from './oidc-idp.js';

/** The callback URL Custos registers at the IdP: its public URL plus the callback path. */
export const callbackUrl = (t: TestApp) => `${t.runtime.services.sso.publicUrl}/api/v1/auth/sso/callback`;

/** Registers a client for the tenant at the IdP and saves SSO settings pointing at it (overrides win). */
export async function configureSso(t: TestApp, adminToken: string, idp: TestIdp, overrides: Record<string, unknown> = {}) {
  const client = idp.client(callbackUrl(t));
  const body = { enabled: true, issuer: idp.issuer, clientId: client.clientId, clientSecret: client.clientSecret, scopes: ['openid', 'email', 'profile', 'groups'], jitProvisioning: false, ssoOnly: false, breakGlassUsers: [], ...overrides };
  const res = await t.app.inject({ method: 'PUT', url: '/api/v1/settings/sso', headers: bearer(adminToken), payload: body });
  expect(res.statusCode, res.body).toBe(200);
  return { client, body, view: res.json() };
}

/** The Cookie header of a jar, for inject. */
export const cookieHeader = (jar: CookieJar): Record<string, string> => {
  const value = jar.header();
  return value ? { cookie: value } : {};
};

/** GET /auth/sso/start in a browser (jar); answers the IdP URL it redirects to. */
export async function startSso(t: TestApp, slug: string, jar: CookieJar, returnTo?: string) {
  const query = new URLSearchParams({ tenant: slug, ...(returnTo !== undefined ? { returnTo } : {}) });
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/auth/sso/start?${query}`, headers: cookieHeader(jar) });
  expect(res.statusCode, res.body).toBe(302);
  jar.take(res.headers['set-cookie']);
  return res.headers.location as string;
}

/** Sends the IdP's redirect back to Custos's callback from a browser (jar), optionally with the query changed. */
export async function finishSso(t: TestApp, back: URL, jar: CookieJar): Promise<LightMyRequestResponse> {
  const res = await t.app.inject({ method: 'GET', url: `${back.pathname}${back.search}`, headers: cookieHeader(jar) });
  jar.take(res.headers['set-cookie']);
  return res;
}

/** The whole browser flow for one person: start, sign in at the IdP as `subject`, come back. */
export async function ssoLogin(t: TestApp, idp: TestIdp, slug: string, subject: string, jar = new CookieJar(), returnTo?: string) {
  const authorizationUrl = await startSso(t, slug, jar, returnTo);
  const back = await signInAtIdp(authorizationUrl, subject, callbackUrl(t));
  const callback = await finishSso(t, back, jar);
  return { callback, back, jar, authorizationUrl };
}
