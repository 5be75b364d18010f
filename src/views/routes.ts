// HTTP surface of saved views: parse with the schemas, call the service, shape the reply.
// Apply a view with GET /tasks?view_id=… (tasks/routes.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthService } from '../auth/service.js';
import { actorOf, authenticateHook } from '../http/authenticate.js';
import { problemSchema } from '../http/problem.js';
import { createViewBody, updateViewBody, viewIdParams, viewListSchema, viewSchema } from './schema.js';
import type { ViewService } from './service.js';

const errors = { 401: problemSchema, 404: problemSchema, 409: problemSchema, 422: problemSchema };

export function viewRoutes(auth: AuthService, views: ViewService): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));

    app.get(
      '/views',
      { schema: { tags: ['views'], summary: 'Your saved views, by name', response: { 200: viewListSchema, ...errors } } },
      async (request) => ({ items: await views.listViews(actorOf(request)) }),
    );

    app.post(
      '/views',
      {
        schema: {
          tags: ['views'],
          summary: 'Save a view (a named filter and sort)',
          description:
            'The filter is checked first: a syntax error is 422 with its `column`. Names are unique per user, ignoring case (409).',
          body: createViewBody,
          response: { 201: viewSchema, ...errors },
        },
      },
      async (request, reply) => {
        const view = await views.createView(actorOf(request), request.body);
        return reply.code(201).header('location', `/api/v1/views/${view.id}`).send(view);
      },
    );

    app.get(
      '/views/:id',
      { schema: { tags: ['views'], summary: 'One saved view', params: viewIdParams, response: { 200: viewSchema, ...errors } } },
      async (request) => views.getView(actorOf(request), request.params.id),
    );

    app.patch(
      '/views/:id',
      {
        schema: {
          tags: ['views'],
          summary: 'Rename a view or change its filter or sort',
          params: viewIdParams,
          body: updateViewBody,
          response: { 200: viewSchema, ...errors },
        },
      },
      async (request) => views.updateView(actorOf(request), request.params.id, request.body),
    );

    app.delete(
      '/views/:id',
      { schema: { tags: ['views'], summary: 'Delete a view', params: viewIdParams, response: { 204: z.void(), ...errors } } },
      async (request, reply) => {
        await views.deleteView(actorOf(request), request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
