// POST /tasks/parse: quick-add text → the fields of a task and the spans that produced them,
// read in the user's time zone at the server's clock. Creates nothing.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AuthService } from '../auth/service.js';
import type { Clock } from '../clock.js';
import type { DB } from '../db/tables.js';
import { actorOf, authenticateHook } from '../http/authenticate.js';
import { problemSchema } from '../http/problem.js';
import { parseQuickAdd } from './parse.js';

const parseBody = z.object({ text: z.string().trim().min(1).max(1000) }).strict();
const parseResult = z
  .object({
    title: z.string(),
    due_date: z.string().nullable(),
    due_at: z.string().nullable(),
    time_zone: z.string().nullable(),
    recurrence: z.object({ rule: z.string(), mode: z.enum(['schedule', 'after_completion']) }).nullable(),
    priority: z.enum(['none', 'low', 'medium', 'high', 'urgent']),
    tags: z.array(z.string()),
    reminders: z.array(z.object({ before_seconds: z.number().int() })),
    spans: z.array(
      z.object({
        field: z.enum(['due', 'recurrence', 'priority', 'tag', 'reminder']),
        start: z.number(),
        end: z.number(),
        text: z.string(),
      }),
    ),
  })
  .meta({ id: 'QuickAddResult' });

export function quickAddRoutes(auth: AuthService, db: Kysely<DB>, clock: Clock): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));
    app.post(
      '/tasks/parse',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Parse quick-add text',
          description:
            'English: dates and times (chrono-node, in your zone), `every …`/`every! …` repeats, p1-p4, #tags, ' +
            '`remind me N units before`. Each field comes with the span of text that produced it; the rest is the title.',
          body: parseBody,
          response: { 200: parseResult, 401: problemSchema, 422: problemSchema },
        },
      },
      async (request) => {
        const user = await db
          .selectFrom('users')
          .select('time_zone')
          .where('id', '=', actorOf(request).userId)
          .executeTakeFirst();
        return parseQuickAdd(request.body.text, { now: clock.now(), timeZone: user?.time_zone ?? 'UTC' });
      },
    );
  };
}
