import { describe, expect, it } from 'vitest';
import { clearedSessionCookies, csrfMatches, csrfTokenFor, parseCookies, secureCookiesFor, serializeCookie, sessionCookies } from './cookies.js';

describe('cookies', () => {
  it('parses a Cookie header: trims, unquotes, keeps the first of a repeated name, skips junk', () => {
    const cookies = parseCookies(' a=1; b="two" ;a=3; junk; =x; c=; bad name=1');
    expect([...cookies]).toEqual([['a', '1'], ['b', 'two'], ['c', '']]);
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('Secure is set unless the public URL is plain http on localhost or 127.0.0.1', () => {
    expect(secureCookiesFor('https://custos.example')).toBe(true);
    expect(secureCookiesFor('http://custos.example')).toBe(true);
    expect(secureCookiesFor('http://127.0.0.1:8220')).toBe(false);
    expect(secureCookiesFor('http://localhost:8220')).toBe(false);
    expect(serializeCookie('n', 'v', { maxAgeSeconds: 5.9, httpOnly: true, secure: true })).toBe('n=v; Max-Age=5; Path=/; SameSite=Lax; HttpOnly; Secure');
  });

  it('a session sets an HttpOnly token cookie and a readable CSRF cookie bound to it; logout expires both', () => {
    const [session, csrf] = sessionCookies('cst_abc', 3600, true);
    expect(session).toBe('custos_session=cst_abc; Max-Age=3600; Path=/; SameSite=Lax; HttpOnly; Secure');
    expect(csrf).toBe(`custos_csrf=${csrfTokenFor('cst_abc')}; Max-Age=3600; Path=/; SameSite=Lax; Secure`);
    expect(clearedSessionCookies().every((c) => c.includes('Max-Age=0'))).toBe(true);
  });

  it('the CSRF token fits only its own session token', () => {
    const token = csrfTokenFor('cst_one');
    expect(token).not.toContain('cst_one');
    expect(csrfMatches('cst_one', token)).toBe(true);
    expect(csrfMatches('cst_two', token)).toBe(false);
    expect(csrfMatches('cst_one', undefined)).toBe(false);
    expect(csrfMatches('cst_one', [token, token])).toBe(false);
    expect(csrfMatches('cst_one', token.slice(1))).toBe(false);
  });
});
