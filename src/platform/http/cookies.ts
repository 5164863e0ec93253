import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';

/** The browser session cookie: the same session token a login answers, HttpOnly. */
export const SESSION_COOKIE = 'custos_session';
/** The readable CSRF cookie: the console copies it into the X-CSRF-Token header of unsafe requests. */
export const CSRF_COOKIE = 'custos_csrf';
/** The header a cookie-authenticated POST, PUT, PATCH or DELETE must carry. */
export const CSRF_HEADER = 'x-csrf-token';

const NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The cookies of a request by name (the first of a repeated name wins); no dependency, RFC 6265 syntax. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (NAME.test(name) && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/** One cookie of a request, or null. */
export function cookieOf(request: FastifyRequest, name: string): string | null {
  return parseCookies(request.headers.cookie).get(name) ?? null;
}

/** Attributes of a Set-Cookie line; SameSite=Lax so the IdP's top-level redirect back still carries it. */
export interface CookieOptions {
  maxAgeSeconds: number;
  httpOnly: boolean;
  secure: boolean;
  path?: string;
}

/** A Set-Cookie header value; values are our own base64url tokens, so they need no encoding. */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`, `Path=${options.path ?? '/'}`, 'SameSite=Lax'];
  if (options.httpOnly) parts.push('HttpOnly');
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}

/**
 * Whether cookies must be Secure: always, unless the server's public URL is plain http on localhost or
 * 127.0.0.1 (a developer's machine, or tests), where a Secure cookie would never be sent back.
 */
export function secureCookiesFor(publicUrl: string): boolean {
  const url = new URL(publicUrl);
  return !(url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname));
}

/**
 * The CSRF token bound to a session token: SHA-256 over a fixed label and the token. The session token is
 * 256 random bits the page's script never sees (HttpOnly), so nobody without it can compute this value, and
 * it reveals nothing about the token; no server key is needed for that, and every node agrees without one.
 */
export function csrfTokenFor(sessionToken: string): string {
  return hash('sha256', `custos-csrf-v1|${sessionToken}`, 'base64url');
}

/** Whether a presented X-CSRF-Token belongs to this session token (constant time). */
export function csrfMatches(sessionToken: string, presented: string | string[] | undefined): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfTokenFor(sessionToken));
  const given = Buffer.from(presented);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The two Set-Cookie lines of a browser session: the HttpOnly session token and the readable CSRF token. */
export function sessionCookies(sessionToken: string, maxAgeSeconds: number, secure: boolean): string[] {
  return [
    serializeCookie(SESSION_COOKIE, sessionToken, { maxAgeSeconds, httpOnly: true, secure }),
    serializeCookie(CSRF_COOKIE, csrfTokenFor(sessionToken), { maxAgeSeconds, httpOnly: false, secure }),
  ];
}

/** Set-Cookie lines that delete the browser session (logout). Deleting needs no Secure attribute. */
export function clearedSessionCookies(): string[] {
  return [
    serializeCookie(SESSION_COOKIE, '', { maxAgeSeconds: 0, httpOnly: true, secure: false }),
    serializeCookie(CSRF_COOKIE, '', { maxAgeSeconds: 0, httpOnly: false, secure: false }),
  ];
}
