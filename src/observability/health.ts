// Liveness (the process answers) and readiness (the database answers, the schema is
// current, and we are not shutting down). Load balancers take an instance out on 503.

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/connect.js';
import { isSchemaCurrent, type Migration } from '../db/migrate.js';
import type { Metrics } from './metrics.js';

const readiness = z.object({
  status: z.enum(['ok', 'unavailable']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })),
});

export function operationsRoutes(deps: {
  database: Database;
  migrations: Migration[];
  metrics: Metrics;
  isShuttingDown: () => boolean;
  consumersHealthy: () => boolean;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/health/live',
      { schema: { tags: ['operations'], response: { 200: z.object({ status: z.literal('ok') }) } } },
      async () => ({
        status: 'ok' as const,
      }),
    );

    app.get(
      '/health/ready',
      { schema: { tags: ['operations'], response: { 200: readiness, 503: readiness } } },
      async (_request, reply) => {
        const checks: Record<string, { ok: boolean; detail?: string }> = {};
        try {
          await sql`SELECT 1`.execute(deps.database.db);
          checks.database = { ok: true };
          const current = await isSchemaCurrent(deps.database.db, deps.migrations);
          checks.migrations = current ? { ok: true } : { ok: false, detail: 'pending migrations: run `taskflow migrate`' };
        } catch (err) {
          checks.database = { ok: false, detail: (err as Error).message };
        }
        checks.consumers = deps.consumersHealthy() ? { ok: true } : { ok: false, detail: 'consumer loop stalled' };
        checks.accepting = deps.isShuttingDown() ? { ok: false, detail: 'shutting down' } : { ok: true };
        const ok = Object.values(checks).every((c) => c.ok);
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
      },
    );

    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    });
  };
}
