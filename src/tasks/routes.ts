// HTTP surface of tasks: parse with the schemas, call the service, shape the reply.
// No SQL, no transactions, no status codes chosen for errors here (see http/problem.ts).
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthService } from '../auth/service.js';
import { actorOf, authenticateHook } from '../http/authenticate.js';
import { expectedVersion, idempotencyKey, setVersionETag } from '../http/preconditions.js';
import { problemSchema } from '../http/problem.js';
import { hashRequest } from '../idempotency/store.js';
import { createTaskBody, listTasksQuery, taskIdParams, taskPageSchema, taskSchema, updateTaskBody } from './schema.js';
import type { TaskService } from './service.js';

const errors = { 401: problemSchema, 404: problemSchema, 412: problemSchema, 422: problemSchema };
const ifMatch = z.object({ 'if-match': z.string().optional().meta({ description: 'ETag of the version you last saw' }) });

// Reminders are the caller's own, not part of the task (its events, history and ETag stay
// the task's): POST and GET point to them rather than embed them.
function setRemindersLink(reply: FastifyReply, taskId: string): void {
  reply.header('link', `</api/v1/tasks/${taskId}/reminders>; rel="reminders"`);
}

export function taskRoutes(auth: AuthService, tasks: TaskService): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));

    app.post(
      '/tasks',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Create a task',
          description:
            'With an Idempotency-Key header, retrying the same request returns the first result. `reminders` are ' +
            'created in the same transaction (a bad one is 422 and nothing is written); without them, those of ' +
            '`quick`, else your default reminder (PATCH /reminder-settings) applies to a task with a due date. ' +
            'The `Link` header (rel="reminders") points to your reminders on the task, as on GET /tasks/{id}.',
          headers: z.object({ 'idempotency-key': z.string().optional() }),
          body: createTaskBody,
          response: { 201: taskSchema, ...errors },
        },
      },
      async (request, reply) => {
        const key = idempotencyKey(request);
        const { task, replayed } = await tasks.createTask(
          actorOf(request),
          request.body,
          key ? { key, requestHash: hashRequest(['POST /tasks', request.body]) } : undefined,
        );
        if (replayed) reply.header('idempotent-replayed', 'true');
        setVersionETag(reply, task.version);
        setRemindersLink(reply, task.id);
        return reply.code(201).header('location', `/api/v1/tasks/${task.id}`).send(task);
      },
    );

    app.get(
      '/tasks',
      {
        schema: {
          tags: ['tasks'],
          summary: 'List, filter, search and sort tasks',
          description:
            'Filters combine with AND; `filter` takes an expression such as `(today | overdue) & #work & !p4` ' +
            '(docs/filters.md; a syntax error is 422 with its `column`). With `q` each item has `search` ' +
            '(rank, highlighted title and snippet) and the default sort is rank, else newest first. ' +
            'Cursor-paginated (`next_cursor`), stable under concurrent inserts.',
          querystring: listTasksQuery,
          response: { 200: taskPageSchema, ...errors },
        },
      },
      async (request) => tasks.listTasks(actorOf(request), request.query),
    );

    app.get(
      '/tasks/:id',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Get a task',
          description: 'The `Link` header (rel="reminders") points to your reminders on the task.',
          params: taskIdParams,
          response: { 200: taskSchema, ...errors },
        },
      },
      async (request, reply) => {
        const task = await tasks.getTask(actorOf(request), request.params.id);
        setVersionETag(reply, task.version);
        setRemindersLink(reply, task.id);
        return task;
      },
    );

    app.patch(
      '/tasks/:id',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Change some fields of a task',
          description: 'Fields left out stay as they are; null clears due_date/due_at/time_zone.',
          params: taskIdParams,
          headers: ifMatch,
          body: updateTaskBody,
          response: { 200: taskSchema, ...errors },
        },
      },
      async (request, reply) => {
        const task = await tasks.updateTask(actorOf(request), request.params.id, request.body, {
          expectedVersion: expectedVersion(request),
        });
        setVersionETag(reply, task.version);
        return task;
      },
    );

    for (const [action, run] of [
      ['complete', tasks.completeTask],
      ['reopen', tasks.reopenTask],
    ] as const) {
      app.post(
        `/tasks/:id/${action}`,
        {
          schema: {
            tags: ['tasks'],
            summary: action === 'complete' ? 'Complete a task' : 'Reopen a completed task',
            description: 'Idempotent: doing it twice changes nothing the second time.',
            params: taskIdParams,
            headers: ifMatch,
            response: { 200: taskSchema, ...errors },
          },
        },
        async (request, reply) => {
          const task = await run(actorOf(request), request.params.id, { expectedVersion: expectedVersion(request) });
          setVersionETag(reply, task.version);
          return task;
        },
      );
    }

    app.post(
      '/tasks/:id/restore',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Restore a deleted task',
          description:
            'Undo of a delete: re-creates the task from its last task.deleted event with the same id, fields and tags, ' +
            'in its list (or the Inbox if that list is gone). 409 `conflict` if the task exists.',
          params: taskIdParams,
          response: { 200: taskSchema, ...errors, 409: problemSchema },
        },
      },
      async (request, reply) => {
        const task = await tasks.restoreTask(actorOf(request), request.params.id);
        setVersionETag(reply, task.version);
        return task;
      },
    );

    app.delete(
      '/tasks/:id',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Delete a task',
          params: taskIdParams,
          headers: ifMatch,
          response: { 204: z.void(), ...errors },
        },
      },
      async (request, reply) => {
        await tasks.deleteTask(actorOf(request), request.params.id, { expectedVersion: expectedVersion(request) });
        return reply.code(204).send();
      },
    );
  };
}
