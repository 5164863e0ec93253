import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHttpApp, type HttpApp } from './create-app.js';
import { createLogger } from '../log.js';
import { DomainError, notFound } from '../errors.js';

describe('HTTP platform', () => {
  let app: HttpApp;
  beforeAll(async () => {
    app = await createHttpApp({ logger: createLogger({ level: 'silent' }), version: 'test' });
    app.get('/items/:id', { schema: { params: z.object({ id: z.string() }), response: { 200: z.object({ id: z.string() }) } } }, async (request) => {
      if (request.params.id === 'missing') throw notFound('ITEM_NOT_FOUND', 'No such item.');
      // The response schema is an allowlist: the extra field never leaves.
      return { id: request.params.id, secret: 'must-not-leak' } as { id: string };
    });
    app.post('/items', { schema: { body: z.strictObject({ name: z.string().max(10) }) } }, async (request) => ({ name: request.body.name }));
    app.get('/boom', async () => {
      throw new Error('database password is hunter2');
    });
    app.get('/sealed', async () => {
      throw new DomainError('SEAL_INVALID', 'A sealed value failed its integrity check.', 'internal');
    });
    app.get('/down', async () => {
      throw new DomainError('MAINTENANCE', 'Down for maintenance.', 'unavailable');
    });
    await app.ready();
  });
  afterAll(async () => app.close());

  it('answers every request with a request id, reusing a well-formed one from the caller', async () => {
    const generated = await app.inject({ method: 'GET', url: '/items/a' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await app.inject({ method: 'GET', url: '/items/a', headers: { 'x-request-id': 'trace-abc-12345' } });
    expect(given.headers['x-request-id']).toBe('trace-abc-12345');
    const hostile = await app.inject({ method: 'GET', url: '/items/a', headers: { 'x-request-id': 'bad id <script>' } });
    expect(hostile.headers['x-request-id']).not.toContain('bad id');
  });

  it('sends the API security headers: nothing may load, frame or cache a response', async () => {
    const res = await app.inject({ method: 'GET', url: '/items/a' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('response schemas are allowlists: unlisted fields never leave', async () => {
    const res = await app.inject({ method: 'GET', url: '/items/a' });
    expect(res.json()).toEqual({ id: 'a' });
    expect(res.body).not.toContain('must-not-leak');
  });

  it('maps a domain error to its status and stable code', async () => {
    const res = await app.inject({ method: 'GET', url: '/items/missing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'ITEM_NOT_FOUND', message: 'No such item.' }, requestId: res.headers['x-request-id'] });
  });

  it('hides the details of an unexpected error behind INTERNAL', async () => {
    const res = await app.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('INTERNAL');
    expect(res.body).not.toContain('hunter2');
  });

  it('an internal domain error answers INTERNAL, never its own code', async () => {
    const res = await app.inject({ method: 'GET', url: '/sealed' });
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('INTERNAL');
    expect(res.body).not.toContain('SEAL_INVALID');
  });

  it('a 503 domain error keeps its message', async () => {
    const res = await app.inject({ method: 'GET', url: '/down' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toEqual({ code: 'MAINTENANCE', message: 'Down for maintenance.' });
  });

  it('answers unknown routes 404 NOT_FOUND in the error shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('refuses malformed JSON, wrong types, unknown fields and oversize bodies with 4xx codes', async () => {
    const post = (payload: string, type = 'application/json') => app.inject({ method: 'POST', url: '/items', payload, headers: { 'content-type': type } });
    expect((await post('{"name":')).json().error.code).toBe('MALFORMED_JSON');
    const wrongType = await post('{"name":5}');
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: { issues: [{ path: 'body.name' }] } });
    const unknown = await post('{"name":"a","admin":true}');
    expect(unknown.json().error.code).toBe('VALIDATION_FAILED');
    expect(unknown.json().error.message).toContain('admin');
    const big = await post(JSON.stringify({ name: 'x'.repeat(1024 * 1024 + 10) }));
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const text = await post('name=a', 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('labels metrics by route template, never by raw URL', async () => {
    await app.inject({ method: 'GET', url: '/items/one' });
    await app.inject({ method: 'GET', url: '/items/two' });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/custos_http_requests_total\{method="GET",route="\/items\/:id",status_code="200"\} \d+/);
    expect(metrics).not.toContain('/items/one');
    expect(metrics).toContain('route="unmatched"');
  });

  it('publishes an OpenAPI 3.1 document of its routes', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/items/{id}', '/items']));
  });
});
