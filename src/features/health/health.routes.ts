import { z } from 'zod';
import type { HttpApp } from '../../platform/http/create-app.js';

/** A named readiness check; it throws with a short reason when the component is not ready. */
export type ReadinessCheck = () => Promise<void>;

const readyResponse = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.record(z.string(), z.object({ status: z.enum(['ok', 'failed']), message: z.string().optional() })),
});

/** Liveness (/v1/health, never touches a dependency) and readiness (/v1/ready, checks each dependency). */
export function registerHealthRoutes(app: HttpApp, deps: { version: string; checks: Record<string, ReadinessCheck> }): void {
  app.get('/v1/health', {
    schema: { tags: ['health'], summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok'), version: z.string() }) } },
  }, async () => ({ status: 'ok' as const, version: deps.version }));

  app.get('/v1/ready', {
    schema: { tags: ['health'], summary: 'Readiness: database, keys, schema', response: { 200: readyResponse, 503: readyResponse } },
  }, async (_request, reply) => {
    const entries = await Promise.all(
      Object.entries(deps.checks).map(async ([name, check]) => {
        try {
          await check();
          return [name, { status: 'ok' as const }] as const;
        } catch (error) {
          return [name, { status: 'failed' as const, message: (error as Error).message }] as const;
        }
      }),
    );
    const ready = entries.every(([, result]) => result.status === 'ok');
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(entries) });
  });
}
