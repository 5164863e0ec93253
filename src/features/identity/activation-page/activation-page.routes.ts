import { readFileSync } from 'node:fs';
import type { HttpApp } from '../../../platform/http/create-app.js';
import { pageSecurityHeaders } from '../../../platform/http/security-headers.js';

const asset = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');

/** The page activation links open (`/activate#tenant=...&token=...`), until the console takes it over. */
export function registerActivationPage(app: HttpApp): void {
  const files = [
    { url: '/activate', body: asset('./activate.html'), type: 'text/html; charset=utf-8' },
    { url: '/activate.js', body: asset('./activate.js'), type: 'text/javascript; charset=utf-8' },
    { url: '/activate.css', body: asset('./activate.css'), type: 'text/css; charset=utf-8' },
  ];
  // A page loads its own script and stylesheet, so it gets helmet's page policy instead of the API's `default-src 'none'`.
  const headers = { ...pageSecurityHeaders(), 'cache-control': 'no-store' };
  for (const file of files) {
    app.get(file.url, { schema: { hide: true } }, async (_request, reply) => reply.headers(headers).type(file.type).send(file.body));
  }
}
