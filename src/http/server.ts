// Assembles the Fastify server: infrastructure plugins (security headers, CORS, rate
// limits, OpenAPI), request ids and metrics, the one error handler, then each capability's
// routes under /api/v1. Services are built in app.ts and passed in; nothing here talks SQL.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type RawServerDefault } from 'fastify';
import {
  type FastifyPluginAsyncZod,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { errorHandler, notFoundHandler, rejectNulCharacters } from './problem.js';

export interface HttpDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** Routes outside /api/v1 (health, metrics). */
  operations: FastifyPluginAsyncZod;
  /** Routes under /api/v1 that need no user (sign-up, log-in). */
  publicApi: FastifyPluginAsyncZod[];
  /** Routes under /api/v1 behind authentication. */
  api: FastifyPluginAsyncZod[];
}

export type HttpServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, ZodTypeProvider>;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export async function buildHttpServer(deps: HttpDeps): Promise<HttpServer> {
  const { config, metrics } = deps;
  const app = Fastify({
    loggerInstance: deps.log,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // The correlation id: the caller's X-Request-Id when it looks sane, else a fresh one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    trustProxy: true,
    return503OnClosing: true,
    // Idle keep-alive sockets are closed by our own bookkeeping below: Node's
    // closeIdleConnections() also closed a keep-alive socket whose next request was already
    // being handled (seen in the CLI shutdown test: "other side closed", no response).
    forceCloseConnections: false,
    // The router's own errors (an over-long path segment, bad URL encoding) as problem+json too.
    frameworkErrors: (error, request, reply) => errorHandler(error, request, reply),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  app.addHook('preValidation', async (request) => rejectNulCharacters(request));
  app.decorateRequest('principal', null);

  // Graceful shutdown: once closing, answer in-flight requests with `Connection: close` (the
  // socket then closes after the response) and end every socket with no request in flight,
  // or keep-alive clients hold close() open until their idle timeout.
  let closing = false;
  const requestsOnSocket = new Map<Socket, number>();
  app.server.on('connection', (socket: Socket) => {
    requestsOnSocket.set(socket, 0);
    socket.on('close', () => requestsOnSocket.delete(socket));
  });
  // Only sockets the server accepted are tracked (app.inject() has no real socket).
  app.addHook('onRequest', async (request) => {
    const count = requestsOnSocket.get(request.raw.socket);
    if (count !== undefined) requestsOnSocket.set(request.raw.socket, count + 1);
  });
  app.addHook('onResponse', async (request) => {
    const count = requestsOnSocket.get(request.raw.socket);
    if (count !== undefined) requestsOnSocket.set(request.raw.socket, Math.max(0, count - 1));
  });
  app.addHook('preClose', async () => {
    closing = true;
    for (const [socket, requests] of requestsOnSocket) if (requests === 0) socket.end();
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(helmet, {
    // swagger-ui serves inline scripts/styles from its own origin.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'unsafe-inline'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
        // Self-hosted instances are often plain http on a LAN address: don't rewrite to https.
        upgradeInsecureRequests: null,
      },
    },
  });
  await app.register(cors, { origin: config.CORS_ORIGINS.length > 0 ? config.CORS_ORIGINS : false, credentials: true });
  if (config.RATE_LIMIT_ENABLED) {
    await app.register(rateLimit, {
      global: true,
      // After authentication, so that limits are per user; anonymous callers per IP.
      hook: 'preHandler',
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      keyGenerator: (request) => (request.principal ? `user:${request.principal.userId}` : `ip:${request.ip}`),
      allowList: (request) => request.url.startsWith('/health') || request.url === '/metrics',
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'TaskFlow API',
        version: '1.0.0',
        description:
          'Event-driven task service. Errors are RFC 9457 problem+json with a stable `code`. ' +
          'Authenticate with `Authorization: Bearer <access token or personal API token>`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(deps.operations);
  await app.register(
    async (v1) => {
      for (const routes of deps.publicApi) await v1.register(routes);
      for (const routes of deps.api) await v1.register(routes);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
