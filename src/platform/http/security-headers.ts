import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/** Runs helmet once against a recording response and answers the headers it sets. */
function recordHelmet(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
    getHeader: (name: string) => headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * Security headers for API responses, computed once (@fastify/helmet rebuilds helmet on every request). A JSON
 * API needs the short OWASP REST set: nothing may load, frame or cache it; the browser-era extras are dropped.
 */
export function apiSecurityHeaders(): Record<string, string> {
  return {
    ...recordHelmet({
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      xFrameOptions: { action: 'deny' },
      dnsPrefetchControl: false,
      ieNoOpen: false,
      originAgentCluster: false,
      permittedCrossDomainPolicies: false,
      xssFilter: false,
      crossOriginOpenerPolicy: false,
    }),
    // Vault answers must never sit in a browser or proxy cache.
    'cache-control': 'no-store',
  };
}

/** helmet's defaults, for the few HTML pages served (they load their own script and stylesheet). */
export function pageSecurityHeaders(): Record<string, string> {
  return recordHelmet({});
}
