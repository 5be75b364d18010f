// HTTP surface of tags: the user's tags with open-task counts, create, rename/recolor,
// delete, and adding/removing tags on one task (a task.updated change, like PATCH tags).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthService } from '../auth/service.js';
import { actorOf, authenticateHook } from '../http/authenticate.js';
import { expectedVersion, setVersionETag } from '../http/preconditions.js';
import { problemSchema } from '../http/problem.js';
import { taskIdParams, taskSchema } from '../tasks/schema.js';
import type { TaskService } from '../tasks/service.js';
import { addTaskTagsBody, createTagBody, tagIdParams, tagListSchema, tagSchema, taskTagParams, updateTagBody } from './schema.js';
import type { TagService } from './service.js';

const errors = { 401: problemSchema, 404: problemSchema, 409: problemSchema, 412: problemSchema, 422: problemSchema };
const ifMatch = z.object({ 'if-match': z.string().optional().meta({ description: 'ETag of the task version you last saw' }) });

export function tagRoutes(auth: AuthService, tags: TagService, tasks: TaskService): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));

    app.get(
      '/tags',
      {
        schema: {
          tags: ['tags'],
          summary: 'Your tags, by name, with open-task counts',
          response: { 200: tagListSchema, ...errors },
        },
      },
      async (request) => ({ items: await tags.listTags(actorOf(request)) }),
    );

    app.post(
      '/tags',
      {
        schema: {
          tags: ['tags'],
          summary: 'Create a tag',
          description: 'Names are unique per user, ignoring case: 409 `conflict` if you have it already.',
          body: createTagBody,
          response: { 201: tagSchema, ...errors },
        },
      },
      async (request, reply) => {
        const tag = await tags.createTag(actorOf(request), request.body);
        return reply.code(201).header('location', `/api/v1/tags/${tag.id}`).send(tag);
      },
    );

    app.get(
      '/tags/:id',
      { schema: { tags: ['tags'], summary: 'One tag', params: tagIdParams, response: { 200: tagSchema, ...errors } } },
      async (request) => tags.getTag(actorOf(request), request.params.id),
    );

    app.patch(
      '/tags/:id',
      {
        schema: {
          tags: ['tags'],
          summary: 'Rename or recolor a tag',
          description:
            'A rename shows on every task with the tag: each gets a new version and a task.updated event ' +
            '(tags before/after) caused by the tag.renamed event.',
          params: tagIdParams,
          body: updateTagBody,
          response: { 200: tagSchema, ...errors },
        },
      },
      async (request) => tags.updateTag(actorOf(request), request.params.id, request.body),
    );

    app.delete(
      '/tags/:id',
      {
        schema: {
          tags: ['tags'],
          summary: 'Delete a tag (it is removed from every task)',
          params: tagIdParams,
          response: { 204: z.void(), ...errors },
        },
      },
      async (request, reply) => {
        await tags.deleteTag(actorOf(request), request.params.id);
        return reply.code(204).send();
      },
    );

    app.post(
      '/tasks/:id/tags',
      {
        schema: {
          tags: ['tags'],
          summary: 'Add tags to a task',
          description: 'New names create tags. Tags the task has already are left as they are.',
          params: taskIdParams,
          headers: ifMatch,
          body: addTaskTagsBody,
          response: { 200: taskSchema, ...errors },
        },
      },
      async (request, reply) => {
        const task = await tasks.changeTaskTags(
          actorOf(request),
          request.params.id,
          { add: request.body.tags, remove: [] },
          { expectedVersion: expectedVersion(request) },
        );
        setVersionETag(reply, task.version);
        return task;
      },
    );

    app.delete(
      '/tasks/:id/tags/:name',
      {
        schema: {
          tags: ['tags'],
          summary: 'Remove a tag from a task',
          description: 'By name, ignoring case. Removing a tag the task does not have changes nothing.',
          params: taskTagParams,
          headers: ifMatch,
          response: { 200: taskSchema, ...errors },
        },
      },
      async (request, reply) => {
        const task = await tasks.changeTaskTags(
          actorOf(request),
          request.params.id,
          { add: [], remove: [request.params.name] },
          { expectedVersion: expectedVersion(request) },
        );
        setVersionETag(reply, task.version);
        return task;
      },
    );
  };
}
