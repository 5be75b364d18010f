// GET /api/v1/events/stream: the same stream as the WebSocket, as Server-Sent Events, for
// clients that only read. Each frame is a `data:` line of the same JSON; event and ready
// frames carry `id: <cursor>`, so a reconnecting EventSource resumes by itself with
// Last-Event-ID. Authentication and limits answer as problem+json before the stream starts.
import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthService } from '../auth/service.js';
import { RateLimited, ServiceUnavailable, Unauthorized } from '../errors.js';
import { problemSchema } from '../http/problem.js';
import type { Transport } from './connection.js';
import { requestToken, tokenExpiry } from './credentials.js';
import type { RealtimeHub } from './hub.js';
import { CLOSE, type ErrorCode, TOPICS, type Topic, topicSchema } from './schema.js';

const streamQuery = z
  .object({
    access_token: z.string().min(1).max(4096).optional().meta({
      description: 'For EventSource, which cannot send headers; prefer `Authorization: Bearer`. Never logged.',
    }),
    topics: z
      .string()
      .optional()
      .transform((s) => (s ? s.split(',').map((t) => t.trim()) : [...TOPICS]))
      .pipe(z.array(topicSchema).min(1))
      .meta({ description: 'Comma-separated: tasks, reminders, activity (default: all)', example: 'tasks,reminders' }),
    after: z.string().max(200).optional().meta({ description: 'Cursor to resume after; the Last-Event-ID header wins' }),
  })
  .strict();

/** Client reconnect delay the stream asks EventSource for. */
const RETRY_MS = 2000;

export function realtimeSseRoutes(auth: AuthService, hub: RealtimeHub): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/events/stream',
      {
        schema: {
          tags: ['real time'],
          summary: 'Live events as Server-Sent Events',
          description:
            'Replays your events after the cursor (`Last-Event-ID` or `after`), then streams live ones, each as ' +
            '`id: <cursor>` + `data: <JSON frame>`; comment heartbeats keep proxies open. Same frames as the WebSocket ' +
            '(`/api/v1/ws`, see docs/realtime.md). 429 `rate_limited` when you have too many open streams.',
          querystring: streamQuery,
          response: { 401: problemSchema, 422: problemSchema, 429: problemSchema, 503: problemSchema },
        },
      },
      async (request, reply) => {
        const token = requestToken(request);
        if (!token) {
          throw new Unauthorized('Authentication required: "Authorization: Bearer <token>" or ?access_token=', {
            extra: { reason: 'auth_required' },
          });
        }
        const principal = await auth.authenticate(token);
        request.principal = principal;
        const raw = reply.raw;
        const transport = sseTransport(raw);
        const connection = await hub.connect(principal, transport, tokenExpiry(token, principal));
        if (connection === 'too_many_connections') {
          hub.metrics.disconnects.inc({ transport: 'sse', reason: 'too_many_connections' });
          throw new RateLimited('Too many open real-time connections for this user', {
            extra: { reason: 'too_many_connections' },
          });
        }
        if (connection === 'shutting_down') throw new ServiceUnavailable('The server is shutting down; reconnect');

        reply.hijack();
        const headers = Object.fromEntries(Object.entries(reply.getHeaders()).filter(([, v]) => v !== undefined));
        raw.writeHead(200, {
          ...headers,
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          // nginx: do not buffer the stream.
          'x-accel-buffering': 'no',
        });
        raw.write(`retry: ${RETRY_MS}\n\n`);
        transport.start();
        raw.on('close', () => connection.end('client'));
        const lastEventId = request.headers['last-event-id'];
        const after = typeof lastEventId === 'string' && lastEventId !== '' ? lastEventId : request.query.after;
        connection.subscribe(request.query.topics as Topic[], after).catch((err: unknown) => {
          request.log.error({ err }, 'real-time subscribe failed');
          connection.end('error', CLOSE.internalError, 'internal_error');
        });
      },
    );
  };
}

function sseTransport(raw: ServerResponse): Transport & { start(): void } {
  let started = false;
  const write = (text: string) => started && !raw.destroyed && raw.write(text);
  return {
    kind: 'sse',
    start() {
      started = true;
    },
    send(frame, cursor) {
      write(cursor ? `id: ${cursor}\ndata: ${frame}\n\n` : `data: ${frame}\n\n`);
    },
    bufferedBytes: () => raw.writableLength,
    close(code, reason) {
      // A slow reader would not read a goodbye either.
      if (code === CLOSE.slowConsumer || !started) {
        raw.destroy();
        return;
      }
      const codeOf: Record<string, ErrorCode> = {
        token_expired: 'token_expired',
        token_revoked: 'token_revoked',
        shutting_down: 'shutting_down',
        internal_error: 'internal_error',
      };
      const error = { type: 'error', code: codeOf[reason] ?? 'internal_error', message: reason };
      write(`data: ${JSON.stringify(error)}\n\n`);
      raw.end();
    },
    terminate: () => raw.destroy(),
    isClosing: () => raw.destroyed || raw.writableEnded,
    heartbeat() {
      write(': heartbeat\n\n');
      return true;
    },
  };
}
