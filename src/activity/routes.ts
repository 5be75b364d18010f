// HTTP surface of the activity feed, task history (and time travel) and revert: parse with
// the schemas, call the service, shape the reply. No SQL; errors map in http/problem.ts.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuthService } from '../auth/service.js';
import { actorOf, authenticateHook } from '../http/authenticate.js';
import { setVersionETag } from '../http/preconditions.js';
import { problemSchema } from '../http/problem.js';
import { taskIdParams, taskSchema } from '../tasks/schema.js';
import { activityPageSchema, activityQuery, eventIdParams, taskAtQuery, taskHistorySchema } from './schema.js';
import type { ActivityService } from './service.js';

const errors = { 401: problemSchema, 404: problemSchema, 422: problemSchema };

export function activityRoutes(auth: AuthService, activity: ActivityService): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));

    app.get(
      '/activity',
      {
        schema: {
          tags: ['activity'],
          summary: 'Your activity feed, newest first',
          description:
            'Every event of your tasks, tags and lists, with a readable `summary`. Filters combine with AND; ' +
            '`from` is inclusive, `to` exclusive. Cursor-paginated (`next_cursor`).',
          querystring: activityQuery,
          response: { 200: activityPageSchema, ...errors },
        },
      },
      async (request) => activity.listActivity(actorOf(request), request.query),
    );

    app.get(
      '/tasks/:id/history',
      {
        schema: {
          tags: ['activity'],
          summary: "A task's history, oldest first",
          description: 'Also readable after the task was deleted.',
          params: taskIdParams,
          response: { 200: taskHistorySchema, ...errors },
        },
      },
      async (request) => activity.taskHistory(actorOf(request), request.params.id),
    );

    app.get(
      '/tasks/:id/history/at',
      {
        schema: {
          tags: ['activity'],
          summary: 'A task as it was at a moment',
          description: 'Rebuilt from its events. 404 if the task did not exist then (not yet created, or deleted).',
          params: taskIdParams,
          querystring: taskAtQuery,
          response: { 200: taskSchema, ...errors },
        },
      },
      async (request) => activity.taskAt(actorOf(request), request.params.id, new Date(request.query.time)),
    );

    app.post(
      '/events/:event_id/revert',
      {
        schema: {
          tags: ['activity'],
          summary: 'Undo one change of a task',
          description:
            'Sets the fields a task.updated event changed back to their previous values, as a new change caused by it. ' +
            '409 `revert_conflict` (fields in `errors`) if any of them changed since; 422 `not_revertible` for other events.',
          params: eventIdParams,
          response: { 200: taskSchema, 409: problemSchema, ...errors },
        },
      },
      async (request, reply) => {
        const task = await activity.revertEvent(actorOf(request), request.params.event_id);
        setVersionETag(reply, task.version);
        return task;
      },
    );
  };
}
