// Account, session and API-token endpoints. Sign-up, log-in and refresh carry a tighter
// per-IP rate limit than the rest of the API (password guessing).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/tables.js';
import { actorOf, authenticateHook } from '../http/authenticate.js';
import { problemSchema } from '../http/problem.js';
import { listLists } from '../lists/service.js';
import {
  apiTokenSchema,
  createApiTokenBody,
  createdApiTokenSchema,
  logInBody,
  refreshBody,
  sessionSchema,
  signUpBody,
  updateMeBody,
  userSchema,
} from './schema.js';
import type { AuthService } from './service.js';

const errors = { 401: problemSchema, 409: problemSchema, 422: problemSchema, 429: problemSchema };

export function publicAuthRoutes(
  auth: AuthService,
  authRateLimit: { max: number; timeWindow: number } | false,
): FastifyPluginAsyncZod {
  return async (app) => {
    // Route-level override of the global limit (only when rate limiting is on at all).
    const config = authRateLimit ? { rateLimit: authRateLimit } : undefined;
    app.post(
      '/auth/signup',
      {
        config,
        schema: { tags: ['auth'], summary: 'Create an account', body: signUpBody, response: { 201: sessionSchema, ...errors } },
      },
      async (request, reply) => reply.code(201).send(await auth.signUp(request.body, request.id)),
    );
    app.post(
      '/auth/login',
      {
        config,
        schema: {
          tags: ['auth'],
          summary: 'Log in with email and password',
          body: logInBody,
          response: { 200: sessionSchema, ...errors },
        },
      },
      async (request) => auth.logIn(request.body.email, request.body.password),
    );
    app.post(
      '/auth/refresh',
      {
        config,
        schema: {
          tags: ['auth'],
          summary: 'Exchange a refresh token for a new session (the old refresh token stops working)',
          body: refreshBody,
          response: { 200: sessionSchema, ...errors },
        },
      },
      async (request) => auth.refresh(request.body.refresh_token),
    );
    app.post(
      '/auth/logout',
      {
        schema: {
          tags: ['auth'],
          summary: 'Revoke a refresh token and every token rotated from it',
          body: refreshBody,
          response: { 204: z.void() },
        },
      },
      async (request, reply) => {
        await auth.logOut(request.body.refresh_token);
        return reply.code(204).send();
      },
    );
  };
}

export function accountRoutes(auth: AuthService, db: Kysely<DB>): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));
    app.get(
      '/me',
      { schema: { tags: ['auth'], summary: 'The current user', response: { 200: userSchema, 401: problemSchema } } },
      async (request) => auth.getMe(actorOf(request).userId),
    );
    app.patch(
      '/me',
      {
        schema: {
          tags: ['auth'],
          summary: 'Change display name or time zone',
          body: updateMeBody,
          response: { 200: userSchema, ...errors },
        },
      },
      async (request) => auth.updateMe(actorOf(request).userId, request.body),
    );
    app.get(
      '/lists',
      {
        schema: {
          tags: ['lists'],
          summary: 'Lists the user can see (the Inbox first)',
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.uuid(),
                  name: z.string(),
                  is_inbox: z.boolean(),
                  role: z.enum(['owner', 'editor', 'viewer']),
                  created_at: z.iso.datetime(),
                }),
              ),
            }),
            401: problemSchema,
          },
        },
      },
      async (request) => ({ items: await listLists(db, actorOf(request).userId) }),
    );
    app.get(
      '/api-tokens',
      {
        schema: {
          tags: ['auth'],
          summary: 'Personal API tokens (secrets are never shown again)',
          response: { 200: z.object({ items: z.array(apiTokenSchema) }), 401: problemSchema },
        },
      },
      async (request) => ({ items: await auth.listApiTokens(actorOf(request).userId) }),
    );
    app.post(
      '/api-tokens',
      {
        schema: {
          tags: ['auth'],
          summary: 'Create a personal API token for scripts and AI agents',
          body: createApiTokenBody,
          response: { 201: createdApiTokenSchema, ...errors },
        },
      },
      async (request, reply) => reply.code(201).send(await auth.createApiToken(actorOf(request), request.body)),
    );
    app.delete(
      '/api-tokens/:id',
      {
        schema: {
          tags: ['auth'],
          summary: 'Revoke an API token',
          params: z.object({ id: z.uuid() }),
          response: { 204: z.void(), 404: problemSchema },
        },
      },
      async (request, reply) => {
        await auth.revokeApiToken(actorOf(request), request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
