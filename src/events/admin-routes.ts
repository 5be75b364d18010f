// Admin endpoints of the event runtime: inspect and retry dead letters. Admin role only.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AuthService } from '../auth/service.js';
import type { DB } from '../db/tables.js';
import { Forbidden, NotFound } from '../errors.js';
import { authenticateHook } from '../http/authenticate.js';
import { problemSchema } from '../http/problem.js';
import type { ConsumerRunner } from './consumer-runner.js';
import { listDeadLetters, toView } from './dead-letters.js';

const deadLetterSchema = z
  .object({
    id: z.uuid(),
    consumer: z.string(),
    event_seq: z.string(),
    event_id: z.uuid(),
    event_type: z.string(),
    error: z.string(),
    attempts: z.number().int(),
    first_failed_at: z.iso.datetime(),
    last_failed_at: z.iso.datetime(),
    status: z.enum(['pending', 'resolved']),
    resolved_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'DeadLetter' });

const errors = { 401: problemSchema, 403: problemSchema, 404: problemSchema, 422: problemSchema };

export function adminEventRoutes(auth: AuthService, db: Kysely<DB>, runner: ConsumerRunner): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));
    app.addHook('preHandler', async (request) => {
      if (request.principal?.role !== 'admin') throw new Forbidden('This endpoint needs the admin role');
    });

    app.get(
      '/admin/dead-letters',
      {
        schema: {
          tags: ['admin'],
          summary: 'Events a consumer gave up on',
          querystring: z
            .object({
              status: z.enum(['pending', 'resolved']).optional(),
              consumer: z.string().max(100).optional(),
              limit: z.coerce.number().int().min(1).max(500).default(100),
            })
            .strict(),
          response: { 200: z.object({ items: z.array(deadLetterSchema) }), ...errors },
        },
      },
      async (request) => ({ items: await listDeadLetters(db, request.query) }),
    );

    app.post(
      '/admin/dead-letters/:id/retry',
      {
        schema: {
          tags: ['admin'],
          summary: 'Run the consumer again for this event; resolved on success',
          params: z.object({ id: z.uuid() }),
          response: {
            200: z.object({ ok: z.boolean(), error: z.string().optional(), dead_letter: deadLetterSchema }),
            ...errors,
          },
        },
      },
      async (request) => {
        const result = await runner.retryDeadLetter(request.params.id);
        const row = await db.selectFrom('dead_letters').selectAll().where('id', '=', request.params.id).executeTakeFirst();
        if (!row) throw new NotFound('Dead letter not found');
        return { ...result, dead_letter: toView(row) };
      },
    );
  };
}
