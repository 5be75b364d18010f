// Builds a real TaskFlow app on a fresh copy of the migrated template (PGlite or
// PostgreSQL, per the vitest project) and talks to it over HTTP with Fastify's inject.
import { describe, inject } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import type { Clock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import type { Consumer } from '../../src/events/consumer.js';
import { createLogger } from '../../src/observability/logger.js';
import { copyTemplate, type DatabaseCopy, testDatabaseKind } from './databases.js';
import { until } from './until.js';

/** `describe` for suites that need a database: skipped (with the reason) only outside CI. */
export const describeWithDatabase = (name: string, fn: () => void) => {
  const reason = inject('skipReason');
  return reason
    ? describe.skip(`${name} [${testDatabaseKind()}: ${reason}]`, fn)
    : describe(`${name} [${testDatabaseKind()}]`, fn);
};

export interface TestApp {
  app: App;
  database: DatabaseCopy;
  /** The environment the app was configured from (reuse it to restart on the same data). */
  env: Record<string, string>;
  /** Closes the app and drops its database copy, unless kept or passed in by the caller. */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  /** Reuse an existing database copy (restart tests). */
  database?: DatabaseCopy;
  /** Consumers to run besides the built-in ones. */
  extraConsumers?: Consumer[];
  /** Start the consumer runner as `serve` does (default: when RUN_WORKERS is not false). */
  workers?: boolean;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await copyTemplate(inject('databaseTemplate')));
  const env = {
    LOG_LEVEL: 'silent',
    // Many sign-ups from one "IP" per test file; the rate-limit test sets its own numbers.
    RATE_LIMIT_AUTH_MAX: '100000',
    RATE_LIMIT_MAX: '100000',
    DATABASE_POOL_SIZE: '5',
    ...database.env,
    ...options.env,
  };
  const config = loadConfig(env);
  const app = await createApp(config, {
    log: createLogger('silent'),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.extraConsumers ? { extraConsumers: options.extraConsumers } : {}),
  });
  if (options.workers ?? config.RUN_WORKERS) await app.startWorkers();
  return {
    app,
    database,
    env,
    close: async ({ keepDatabase = false } = {}) => {
      await app.close();
      if (!options.database && !keepDatabase) await database.drop();
    },
  };
}

export interface Reply<T = any> {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: T;
}

export type Headers = Record<string, string>;

/** One HTTP call through the app's router (no socket), JSON in and out. */
export async function call<T = any>(
  app: App,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  options: { token?: string; body?: unknown; headers?: Headers; rawBody?: string } = {},
): Promise<Reply<T>> {
  const headers: Headers = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.rawBody !== undefined) payload = options.rawBody;
  else if (options.body !== undefined) payload = JSON.stringify(options.body);
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  const res = await app.http.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
  const text = res.body;
  let body: unknown = text;
  if (text && /json/.test(String(res.headers['content-type']))) body = JSON.parse(text);
  return { status: res.statusCode, headers: res.headers, body: body as T };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  token: string;
  refreshToken: string;
  inboxListId: string;
}

let userCounter = 0;

export async function signUp(
  app: App,
  overrides: { email?: string; time_zone?: string; password?: string } = {},
): Promise<TestUser> {
  userCounter++;
  const email = overrides.email ?? `user${userCounter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const password = overrides.password ?? 'correct horse battery';
  const res = await call(app, 'POST', '/api/v1/auth/signup', {
    body: { email, password, time_zone: overrides.time_zone ?? 'UTC' },
  });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    id: res.body.user.id,
    email,
    password,
    token: res.body.access_token,
    refreshToken: res.body.refresh_token,
    inboxListId: res.body.user.inbox_list_id,
  };
}

/**
 * Waits until the app's consumers whose name passes `which` (default: all) have handled
 * every event appended so far (their lag reads 0).
 */
export function consumersCaughtUp(
  app: App,
  which: (consumer: string) => boolean = () => true,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<unknown> {
  return until(async () => (await app.consumers.lag()).filter((l) => which(l.consumer)).every((l) => l.events === 0), {
    timeoutMs: options.timeoutMs ?? 10_000,
    what: options.what ?? 'consumers caught up',
  });
}
