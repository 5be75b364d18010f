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
import { createCommitNotifier, newNotifyOrigin } from './events/commit-notifier.js';
import type { Consumer } from './events/consumer.js';
import { createConsumerMetrics } from './events/consumer-metrics.js';
import { type ConsumerRunner, createConsumerRunner } from './events/consumer-runner.js';
import { builtInConsumers } from './events/consumers.js';
import { archiveEvents } from './events/retention.js';
import { buildHttpServer, type HttpServer } from './http/server.js';
import { operationsRoutes } from './observability/health.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { quickAddRoutes } from './quick-add/routes.js';
import { createRealtimeHub, type RealtimeHub } from './realtime/hub.js';
import { createRealtimeMetrics } from './realtime/metrics.js';
import { realtimeSseRoutes } from './realtime/sse-routes.js';
import { realtimeWebSocketRoutes } from './realtime/ws-routes.js';
import { recurrenceRoutes } from './recurrence/routes.js';
import { createRecurrenceService } from './recurrence/service.js';
import { vapidKeyLoader } from './reminders/delivery.js';
import { reminderRoutes } from './reminders/routes.js';
import { createReminderScheduler, type ReminderScheduler } from './reminders/scheduler.js';
import { createReminderService, type ReminderService } from './reminders/service.js';
import { tagRoutes } from './tags/routes.js';
import { createTagService } from './tags/service.js';
import { taskRoutes } from './tasks/routes.js';
import { createTaskService, type TaskService } from './tasks/service.js';
import { viewRoutes } from './views/routes.js';
import { createViewService } from './views/service.js';

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
  /** Reminder CRUD, settings, inbox; and the scheduler that fires them (runs with the workers). */
  readonly reminders: ReminderService;
  readonly reminderScheduler: ReminderScheduler;
  /** Real-time fan-out of this process (WebSocket + SSE); runs while the app listens. */
  readonly realtime: RealtimeHub;
  /** Starts the real-time hub and listens on config.HOST:config.PORT; resolves to the bound address. */
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
    let onEventsCommitted = (_types: ReadonlySet<string>) => {};
    const transact = createTransact(database.db, (events) => {
      for (const e of events) metrics.eventsAppended.inc({ type: e.type });
      onEventsCommitted(new Set(events.map((e) => e.type)));
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
    const reminderScheduler = createReminderScheduler({
      database,
      transact,
      clock,
      log,
      registry: metrics.registry,
      batchSize: config.REMINDER_BATCH_SIZE,
    });
    const reminders = createReminderService({ db: database.db, transact, clock, onChanged: reminderScheduler.wake });
    const vapid = vapidKeyLoader(database.db, {
      publicKey: config.VAPID_PUBLIC_KEY,
      privateKey: config.VAPID_PRIVATE_KEY,
      subject: config.VAPID_SUBJECT,
    });
    const consumerList = [
      ...builtInConsumers({
        recurrence: { clock },
        reminders: {
          clock,
          delivery: {
            webhookMaxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
            webhookTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
            allowHttpWebhooks: config.WEBHOOK_ALLOW_HTTP,
            vapid,
          },
        },
      }),
      ...(options.extraConsumers ?? []),
    ];
    // This app's NOTIFY origin: its own runner and tailer are woken in-process and skip the echo.
    const notifyOrigin = newNotifyOrigin();
    const consumers = createConsumerRunner({
      database,
      transact,
      clock,
      log,
      consumers: consumerList,
      metrics: createConsumerMetrics(metrics.registry, () => consumers.lag()),
      options: {
        pollIntervalMs: config.CONSUMER_POLL_INTERVAL_MS,
        wakeDelayMs: database.kind === 'pglite' ? 10 : 0,
        concurrency:
          database.kind === 'pglite' ? 1 : Math.min(config.CONSUMER_CONCURRENCY, Math.max(1, config.DATABASE_POOL_SIZE - 2)),
      },
      ownOrigin: notifyOrigin,
    });
    const realtime = createRealtimeHub({
      database,
      log,
      metrics: (connections) => createRealtimeMetrics(metrics.registry, connections),
      options: {
        maxConnectionsPerUser: config.REALTIME_MAX_CONNECTIONS_PER_USER,
        maxBufferedBytes: config.REALTIME_MAX_BUFFERED_BYTES,
        heartbeatIntervalMs: config.REALTIME_HEARTBEAT_INTERVAL_MS,
        pollIntervalMs: config.REALTIME_POLL_INTERVAL_MS,
        replayLimit: config.REALTIME_REPLAY_LIMIT,
      },
      ownOrigin: notifyOrigin,
    });
    const notifier = createCommitNotifier(database, log, notifyOrigin);
    onEventsCommitted = (types) => {
      notifier.nudge();
      consumers.nudge(types);
      realtime.nudge();
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
        recurrenceRoutes(auth, createRecurrenceService({ db: database.db, tasks })),
        quickAddRoutes(auth, database.db, clock),
        tagRoutes(auth, createTagService({ db: database.db, transact, clock }), tasks),
        viewRoutes(auth, createViewService({ db: database.db, transact, clock })),
        reminderRoutes(auth, reminders, {
          allowHttpWebhooks: config.WEBHOOK_ALLOW_HTTP,
          vapidPublicKey: async () => (await vapid()).publicKey,
        }),
        activityRoutes(auth, activity),
        adminEventRoutes(auth, database.db, consumers),
        realtimeWebSocketRoutes(auth, realtime, {
          maxMessageBytes: config.REALTIME_MAX_MESSAGE_BYTES,
          maxMessagesPerSecond: config.REALTIME_MAX_MESSAGES_PER_SECOND,
          authTimeoutMs: config.REALTIME_AUTH_TIMEOUT_MS,
        }),
        realtimeSseRoutes(auth, realtime),
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
      reminders,
      reminderScheduler,
      realtime,
      async listen() {
        await realtime.start();
        return http.listen({ port: config.PORT, host: config.HOST });
      },
      async startWorkers() {
        await consumers.start();
        await reminderScheduler.start();
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
          // Real-time clients first (1001: reconnect elsewhere): open streams would hold http.close().
          await realtime.stop();
          // fastify.close() stops accepting, waits for in-flight requests, then resolves.
          await http.close();
          if (retentionTimer) clearInterval(retentionTimer);
          // The batch in progress commits with its checkpoint before the database closes.
          await reminderScheduler.stop();
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
