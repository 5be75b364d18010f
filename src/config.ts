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
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
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
