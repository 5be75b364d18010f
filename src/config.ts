// One Zod schema over process.env: every setting TaskFlow reads, with embedded defaults.
// Nothing else in src/ reads process.env; createApp receives the parsed Config.
import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Unset → embedded PGlite in DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('./data'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Unset → generated once and kept in the database, shared by every instance on it. */
  JWT_SECRET: z.string().min(32).optional(),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(10).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(30 * 24 * 3600),
  RATE_LIMIT_ENABLED: bool.default(true),
  /** Requests per window for an authenticated user (or per IP when anonymous). */
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(600),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(100).default(60_000),
  /** Tighter limit for sign-up/log-in/refresh, per IP: slows password guessing. */
  RATE_LIMIT_AUTH_MAX: z.coerce.number().int().min(1).default(30),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Comma-separated origins allowed by CORS; empty → same-origin only. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  /** Run event consumers and the scheduler in `serve` (the worker issue). */
  RUN_WORKERS: bool.default(true),
  /** Unset → events are kept forever; else older handled events move to events_archive. */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).optional(),
  /** Safety-net poll of the consumer runner when no NOTIFY arrives. */
  CONSUMER_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  /** Consumer batch transactions open at once (each holds a pooled connection; PGlite: always 1). */
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** Real-time connections (WebSocket + SSE) one user may hold open on one instance. */
  REALTIME_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).default(10),
  /** WebSocket ping / SSE comment interval; a WebSocket without a pong by the next one is dropped. */
  REALTIME_HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(10).default(15_000),
  /** A client with more than this queued unsent is disconnected (slow_consumer) instead of buffered. */
  REALTIME_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Largest inbound WebSocket message; larger ones close the socket with 1009. */
  REALTIME_MAX_MESSAGE_BYTES: z.coerce.number().int().min(64).default(4096),
  /** Inbound WebSocket messages per second per connection (bursts of twice that). */
  REALTIME_MAX_MESSAGES_PER_SECOND: z.coerce.number().int().min(1).default(10),
  /** A WebSocket without a token in its handshake must send `auth` within this time. */
  REALTIME_AUTH_TIMEOUT_MS: z.coerce.number().int().min(10).default(10_000),
  /** Safety-net poll of the real-time tailer when no NOTIFY arrives. */
  REALTIME_POLL_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
  /** Most events replayed on resume; a client further behind gets a reset and refetches. */
  REALTIME_REPLAY_LIMIT: z.coerce.number().int().min(1).default(10_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Reminders the scheduler fires per transaction. */
  REMINDER_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Delivery attempts of a reminder webhook/push before the event is dead-lettered. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(8),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** Allow http://127.0.0.1 / localhost webhook URLs (tests, local development); else HTTPS only. */
  WEBHOOK_ALLOW_HTTP: bool.default(false),
  /** Web Push VAPID keys; unset → generated once and kept in the database. */
  VAPID_PUBLIC_KEY: z.string().optional(),
  VAPID_PRIVATE_KEY: z.string().optional(),
  VAPID_SUBJECT: z.string().default('mailto:admin@taskflow.invalid'),
  NATS_URL: z.string().optional(),
  KAFKA_BROKERS: z.string().optional(),
  USE_DAPR: bool.default(false),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses an environment (process.env by default) into a Config or throws a readable ConfigError. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset" for every variable (common in compose files and CI).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
