// The one logger: pino, JSON lines on stdout. Fastify uses this same instance, so every
// request log line carries the request's correlation id (reqId).
import { pino } from 'pino';

export type Logger = pino.Logger;

const withoutQuery = (value: unknown) => (typeof value === 'string' ? value.split('?')[0] : value);

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'taskflow' },
    // Secrets never reach the logs, whatever a caller passes in.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["sec-websocket-protocol"]',
        'headers.authorization',
        'headers["sec-websocket-protocol"]',
        'password',
        '*.password',
        'token',
        '*.token',
        'refresh_token',
        '*.refresh_token',
      ],
      censor: '[redacted]',
    },
    serializers: {
      // Query strings may carry a token (browser EventSource/WebSocket): log the path only.
      req: (req: { method: string; url: string; id: string }) => ({
        method: req.method,
        url: req.url.split('?')[0],
        id: req.id,
      }),
      // Same for a bare url or path a plugin logs (@fastify/websocket logs the upgrade's url).
      url: withoutQuery,
      path: withoutQuery,
    },
  });
}
