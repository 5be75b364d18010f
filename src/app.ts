// Composition root: builds the database, clock, logger, metrics, services and HTTP server
// from a Config and wires them by hand. No module-level state: two apps can run in one
// process (the tests do). `start()`/`stop()` own the lifecycle, including graceful shutdown.

import { activityRoutes } from './activity/routes.js';
import { createActivityService } from './activity/service.js';
import { accountRoutes, publicAuthRoutes } from './auth/routes.js';
import { loadSigningSecret } from './auth/secrets.js';
import { type AuthService, createAuthService } from './auth/service.js';
import { type Clock, systemClock } from './clock.js';
import type { Config } from './config.js';
import { connectDatabase, type Database } from './db/connect.js';
import { loadMigrations, migrateUp } from './db/migrate.js';
import { createTransact, type Transact } from './db/transaction.js';
import { adminEventRoutes } from './events/admin-routes.js';
import { createCommitNotifier } from './events/commit-notifier.js';
import type { Consumer } from './events/consumer.js';
import { createConsumerMetrics } from './events/consumer-metrics.js';
import { type ConsumerRunner, createConsumerRunner } from './events/consumer-runner.js';
import { builtInConsumers } from './events/consumers.js';
import { archiveEvents } from './events/retention.js';
import { buildHttpServer, type HttpServer } from './http/server.js';
import { operationsRoutes } from './observability/health.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { taskRoutes } from './tasks/routes.js';
import { createTaskService, type TaskService } from './tasks/service.js';

export interface App {
  readonly config: Config;
  readonly log: Logger;
  readonly database: Database;
  readonly metrics: Metrics;
  readonly transact: Transact;
  readonly auth: AuthService;
  readonly tasks: TaskService;
  readonly http: HttpServer;
  readonly consumers: ConsumerRunner;
  /** Listens on config.HOST:config.PORT; resolves to the bound address. */
  listen(): Promise<string>;
  /** Starts the event consumers (and retention), as `serve` and `worker` do. */
  startWorkers(): Promise<void>;
  /** Graceful stop: refuse new work, finish in-flight requests and the consumer batch, close the database. */
  close(): Promise<void>;
}

export interface AppOptions {
  clock?: Clock;
  log?: Logger;
  /** Apply pending migrations on start (default true; `taskflow serve` does). */
  migrate?: boolean;
  /** Consumers to run besides the built-in ones (embedding TaskFlow; tests of the runtime). */
  extraConsumers?: Consumer[];
}

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config.LOG_LEVEL);
  const clock = options.clock ?? systemClock;
  const database = await connectDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    log,
  });
  try {
    const migrations = loadMigrations();
    if (options.migrate !== false) {
      const applied = await migrateUp(database.db, migrations);
      if (applied.length > 0) log.info({ applied }, 'migrations applied');
    }
    const metrics = createMetrics(() => database.poolStats());
    // Filled once the runner exists: a local commit that appended events wakes it at once.
    let onEventsCommitted = () => {};
    const transact = createTransact(database.db, (events) => {
      for (const e of events) metrics.eventsAppended.inc({ type: e.type });
      onEventsCommitted();
    });
    const auth = createAuthService({
      db: database.db,
      transact,
      clock,
      signingSecret: await loadSigningSecret(database.db, config.JWT_SECRET),
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    });
    const tasks = createTaskService({ db: database.db, transact, clock });
    const activity = createActivityService({ db: database.db, transact, clock, tasks });
    const consumerList = [...builtInConsumers({}), ...(options.extraConsumers ?? [])];
    const consumers = createConsumerRunner({
      database,
      transact,
      clock,
      log,
      consumers: consumerList,
      metrics: createConsumerMetrics(metrics.registry, () => consumers.lag()),
      options: { pollIntervalMs: config.CONSUMER_POLL_INTERVAL_MS, wakeDelayMs: database.kind === 'pglite' ? 10 : 0 },
    });
    const notifier = createCommitNotifier(database, log);
    onEventsCommitted = () => {
      notifier.nudge();
      consumers.nudge();
    };
    let retentionTimer: NodeJS.Timeout | null = null;

    let shuttingDown = false;
    const http = await buildHttpServer({
      config,
      log,
      metrics,
      operations: operationsRoutes({
        database,
        migrations,
        metrics,
        isShuttingDown: () => shuttingDown,
        consumersHealthy: consumers.isHealthy,
      }),
      publicApi: [
        publicAuthRoutes(
          auth,
          config.RATE_LIMIT_ENABLED ? { max: config.RATE_LIMIT_AUTH_MAX, timeWindow: config.RATE_LIMIT_WINDOW_MS } : false,
        ),
      ],
      api: [
        accountRoutes(auth, database.db),
        taskRoutes(auth, tasks),
        activityRoutes(auth, activity),
        adminEventRoutes(auth, database.db, consumers),
      ],
    });

    let closed: Promise<void> | null = null;
    return {
      config,
      log,
      database,
      metrics,
      transact,
      auth,
      tasks,
      http,
      consumers,
      listen: () => http.listen({ port: config.PORT, host: config.HOST }),
      async startWorkers() {
        await consumers.start();
        const retentionDays = config.EVENT_RETENTION_DAYS;
        if (retentionDays && !retentionTimer) {
          const archive = () =>
            archiveEvents(database.db, new Date(clock.now().getTime() - retentionDays * 86_400_000)).then(
              (moved) => moved > 0 && log.info({ moved }, 'events archived'),
              (err: unknown) => log.error({ err }, 'event archiving failed'),
            );
          retentionTimer = setInterval(archive, 3600_000);
          retentionTimer.unref();
          // Only events every consumer has handled are archived: wait for the first catch-up.
          void consumers.caughtUp().then(archive);
        }
      },
      close() {
        closed ??= (async () => {
          shuttingDown = true;
          // fastify.close() stops accepting, waits for in-flight requests, then resolves.
          await http.close();
          if (retentionTimer) clearInterval(retentionTimer);
          // The batch in progress commits with its checkpoint before the database closes.
          await consumers.stop();
          await database.close();
        })();
        return closed;
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
