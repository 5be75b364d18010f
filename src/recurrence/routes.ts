// HTTP surface of recurrence: skip, stop, set/clear the rule of a task; preview a rule;
// the series view. Thin: schemas parse, the service decides (src/recurrence/service.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthService } from '../auth/service.js';
import { actorOf, authenticateHook } from '../http/authenticate.js';
import { expectedVersion, setVersionETag } from '../http/preconditions.js';
import { problemSchema } from '../http/problem.js';
import { taskIdParams, taskSchema } from '../tasks/schema.js';
import { previewQuery, previewSchema, recurrenceInputSchema, seriesIdParams } from './schema.js';
import type { RecurrenceService } from './service.js';

const errors = { 401: problemSchema, 404: problemSchema, 409: problemSchema, 412: problemSchema, 422: problemSchema };
const ifMatch = z.object({ 'if-match': z.string().optional().meta({ description: 'ETag of the version you last saw' }) });

const seriesSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['active', 'finished', 'stopped']),
    ended_at: z.string().nullable(),
    current: taskSchema.nullable(),
    instances: z.array(taskSchema),
    skipped: z.array(z.object({ task_id: z.uuid(), from: z.string().nullable(), to: z.string().nullable(), at: z.string() })),
  })
  .meta({ id: 'Series' });

export function recurrenceRoutes(auth: AuthService, recurrence: RecurrenceService): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));

    const taskAction = (
      method: 'post' | 'put' | 'delete',
      path: string,
      summary: string,
      description: string,
      run: (
        request: { params: { id: string }; body?: unknown },
        actor: ReturnType<typeof actorOf>,
        version: number | undefined,
      ) => Promise<z.infer<typeof taskSchema>>,
      body?: typeof recurrenceInputSchema,
    ) =>
      app[method](
        path,
        {
          schema: {
            tags: ['recurrence'],
            summary,
            description,
            params: taskIdParams,
            headers: ifMatch,
            ...(body ? { body } : {}),
            response: { 200: taskSchema, ...errors },
          },
        },
        async (request, reply) => {
          const task = await run(request as never, actorOf(request), expectedVersion(request));
          setVersionETag(reply, task.version);
          return task;
        },
      );

    taskAction(
      'post',
      '/tasks/:id/skip',
      'Skip this occurrence',
      'Moves the open instance to its next occurrence without completing it (task.occurrence.skipped). 409 when the series has no further occurrence.',
      (r, actor, v) => recurrence.skipOccurrence(actor, r.params.id, { expectedVersion: v }),
    );
    taskAction(
      'post',
      '/tasks/:id/stop-recurrence',
      'Stop the series',
      'Clears the rule and marks the series stopped; the task itself stays.',
      (r, actor, v) => recurrence.stopRecurrence(actor, r.params.id, { expectedVersion: v }),
    );
    taskAction(
      'put',
      '/tasks/:id/recurrence',
      'Set the repeat rule',
      'RFC 5545 RRULE or a preset; DTSTART is the task’s due. 422 for an invalid or impossible rule or a task without due date.',
      (r, actor, v) => recurrence.setRecurrence(actor, r.params.id, r.body as never, { expectedVersion: v }),
      recurrenceInputSchema,
    );
    taskAction(
      'delete',
      '/tasks/:id/recurrence',
      'Clear the repeat rule',
      'The task becomes a one-off; its past instances stay.',
      (r, actor, v) => recurrence.setRecurrence(actor, r.params.id, null, { expectedVersion: v }),
    );

    app.get(
      '/recurrence/preview',
      {
        schema: {
          tags: ['recurrence'],
          summary: 'Preview a rule',
          description:
            'The next dates of a rule and its description, evaluated in `tz` (default: yours). 422 for an invalid rule.',
          querystring: previewQuery,
          response: { 200: previewSchema, ...errors },
        },
      },
      async (request) => recurrence.preview(actorOf(request), request.query),
    );

    app.get(
      '/series/:series_id',
      {
        schema: {
          tags: ['recurrence'],
          summary: 'A series: its instances, skipped occurrences and status',
          params: seriesIdParams,
          response: { 200: seriesSchema, ...errors },
        },
      },
      async (request) => recurrence.seriesView(actorOf(request), request.params.series_id),
    );
  };
}
