// The event spine under load, in three tables per database:
//
// 1. append throughput: one task.created event per operation through the HTTP API, the
//    service layer, and appendEvents in app.transact, against a plain autocommit INSERT of
//    the same event row;
// 2. consumer catch-up: a backlog of N events drained by the consumer runner with one
//    consumer that writes a row per event (and, on PostgreSQL, 2 runners × 4 partitions),
//    against one INSERT … SELECT of the same rows;
// 3. end-to-end lag (occurred_at → handled) under a paced writer at a steady rate, against
//    the NOTIFY round trip (INSERT event + pg_notify → LISTEN callback) at the same rate.
//
// Consumers are not started while appending (group 1), as in http-create-task. Every app
// runs with the shipped runner options (CONSUMER_POLL_INTERVAL_MS default, batch 200).
import { randomUUID } from 'node:crypto';
import { type Insertable, type Kysely, sql } from 'kysely';
import type { Histogram } from 'prom-client';
import { type App, type AppOptions, createApp } from '../src/app.js';
import type { DB } from '../src/db/tables.js';
import { appendEvents } from '../src/events/append-events.js';
import type { Consumer } from '../src/events/consumer.js';
import type { Actor, NewEvent, StoredEvent } from '../src/events/types.js';
import type { CreateTaskInput } from '../src/tasks/schema.js';
import { benchConfig, serverVersion } from './lib/bench-app.js';
import type { Benchmark, BenchmarkContext } from './lib/benchmark.js';
import { measureLoop } from './lib/concurrent-loop.js';
import { availableKinds, type BenchDatabase, withBenchDatabase } from './lib/databases.js';
import { measureCreateTaskHttp } from './lib/http-load.js';
import { type Measurement, summarize, throughputOnly } from './lib/measurement.js';
import { type PacedResult, runPaced } from './lib/paced-loop.js';
import type { Comparison } from './lib/report.js';

/** Backlog size of the catch-up group (BENCH_CATCHUP_EVENTS). */
const CATCHUP_EVENTS = positiveInt('BENCH_CATCHUP_EVENTS', 20_000);
/** Total rate of the paced writer in the lag group (BENCH_LAG_RATE, events/s). */
const LAG_RATE = positiveInt('BENCH_LAG_RATE', 1000);
/** Which groups to run (BENCH_EVENTS_GROUPS, comma-separated: append, catchup, lag; default all). */
const GROUPS = new Set((process.env.BENCH_EVENTS_GROUPS ?? 'append,catchup,lag').split(',').map((g) => g.trim()));
/** Which databases (BENCH_EVENTS_DATABASES: pglite, postgres; default every one available). */
const DATABASES = process.env.BENCH_EVENTS_DATABASES?.split(',').map((d) => d.trim());
/** Adds decomposition rows (BENCH_EVENTS_DIAGNOSTICS=1): parts of appendEvents, the runner without its handler. */
const DIAGNOSTICS = process.env.BENCH_EVENTS_DIAGNOSTICS === '1';
const BULK_BATCH = 1000;
// From the issue; reported next to the numbers, never asserted.
const TARGET_EVENTS_PER_S = 5000;
const TARGET_LAG_P99_MS = 50;

// The same task as http-create-task: a tag and a local due time converted in a zone.
const TASK = {
  title: 'Benchmark task [<id>]',
  description: 'Created by bench/events.ts',
  due_at: '2030-06-01T09:00',
  time_zone: 'Europe/Berlin',
  priority: 'medium',
  tags: ['bench'],
} as const;
const DUE_INSTANT = '2030-06-01T07:00:00.000Z'; // TASK.due_at in Europe/Berlin (CEST)

interface BenchUser {
  id: string;
  token: string;
  inboxListId: string;
}

export const eventsBenchmark: Benchmark = {
  name: 'events',
  description:
    'Event log: append throughput (HTTP, service, appendEvents vs plain INSERT), consumer catch-up ' +
    '(runner vs INSERT … SELECT), end-to-end lag at a paced rate (runner vs NOTIFY round trip)',
  baselineLabel: 'baseline',
  async run(context) {
    const comparisons: Comparison[] = [];
    for (const kind of availableKinds(context.adminDatabaseUrl)) {
      if (DATABASES && !DATABASES.includes(kind)) continue;
      context.progress(`${kind}: starting`);
      comparisons.push(...(await withBenchDatabase(kind, context.adminDatabaseUrl, (database) => measureOn(database, context))));
    }
    return comparisons;
  },
};

async function measureOn(database: BenchDatabase, context: BenchmarkContext): Promise<Comparison[]> {
  let version = 'unknown';
  let user: BenchUser | undefined;
  const append = await withApp(database, {}, async (app) => {
    version = await serverVersion(app);
    await sql`CREATE TABLE bench_effects (consumer text NOT NULL, event_id uuid NOT NULL, seq bigint NOT NULL)`.execute(
      app.database.db,
    );
    const session = await app.auth.signUp({ email: 'bench@example.com', password: 'benchmark password', time_zone: 'UTC' }, null);
    user = { id: session.user.id, token: session.access_token, inboxListId: session.user.inbox_list_id };
    return GROUPS.has('append') ? appendThroughput(app, user, database, context) : null;
  });
  if (!user) throw new Error('no bench user');
  const catchUp = GROUPS.has('catchup') ? await catchUpThroughput(database, user, context) : null;
  const lag = GROUPS.has('lag') ? await endToEndLag(database, user, context) : null;
  return [append, catchUp, lag].flatMap((c) => (c ? [{ ...c, database: { kind: database.kind, version } }] : []));
}

type Table = Omit<Comparison, 'database'>;

// ---------------------------------------------------------------------------------------
// 1. Append throughput

async function appendThroughput(app: App, user: BenchUser, database: BenchDatabase, context: BenchmarkContext): Promise<Table> {
  const { durationS, warmupS, concurrency } = context.settings;
  const loop = (name: string, operation: () => Promise<unknown>) => {
    context.progress(`${database.kind}: append: ${name}, ${durationS} s`);
    return measureLoop({ name, concurrency, durationS, warmupS, signal: context.signal, operation });
  };
  let n = 0;
  const baseline = await loop('plain INSERT event (autocommit)', () => {
    const actor = actorOf(user);
    return app.database.db
      .insertInto('events')
      .values(eventRow(actor, new Date(), taskCreated(user, ++n)))
      .execute();
  });
  const diagnostics: Measurement[] = [];
  if (DIAGNOSTICS) {
    const db = app.database.db;
    const row = () => eventRow(actorOf(user), new Date(), taskCreated(user, ++n));
    diagnostics.push(
      await loop('diagnostic: INSERT in BEGIN … COMMIT', () =>
        db.transaction().execute((tx) => tx.insertInto('events').values(row()).execute()),
      ),
      await loop('diagnostic: INSERT + pg_notify in BEGIN … COMMIT', () =>
        db.transaction().execute(async (tx) => {
          await tx.insertInto('events').values(row()).execute();
          await sql`SELECT pg_notify('bench_probe', '1')`.execute(tx);
        }),
      ),
      await loop('diagnostic: INSERT RETURNING * + pg_notify in BEGIN … COMMIT', () =>
        db.transaction().execute(async (tx) => {
          await tx.insertInto('events').values(row()).returningAll().execute();
          await sql`SELECT pg_notify('bench_probe', '1')`.execute(tx);
        }),
      ),
    );
  }
  const append = await loop('appendEvents in app.transact', () => {
    const actor = actorOf(user);
    return app.transact((tx) => appendEvents(tx, actor, new Date(), [taskCreated(user, ++n)]));
  });
  // The first creation also creates the tag (a tag.created event); it runs in the warm-up.
  const service = await loop('app.tasks.createTask', () =>
    app.tasks.createTask(actorOf(user), {
      ...TASK,
      tags: [...TASK.tags],
      title: `Benchmark task ${++n}`,
    } satisfies CreateTaskInput),
  );

  const address = await app.listen();
  context.progress(`${database.kind}: append: HTTP POST /api/v1/tasks, ${durationS} s`);
  const http = await measureCreateTaskHttp(
    address,
    user.token,
    TASK,
    { connections: concurrency, durationS, warmupS },
    context.signal,
  );
  const best = Math.max(http.opsPerSecond, service.opsPerSecond, append.opsPerSecond);
  return {
    group: 'append throughput (1 event per operation, 10 concurrent, consumers stopped)',
    unit: 'events/s',
    baselineLabel: 'plain INSERT',
    ratios: ['throughput', 'p50'],
    baseline,
    measured: [http, service, append, ...diagnostics],
    notes: [
      `Target (issue): ≥ ${TARGET_EVENTS_PER_S} events/s end to end on 2 cores. Best append path here: ` +
        `${best.toFixed(0)} events/s (${best >= TARGET_EVENTS_PER_S ? 'met' : 'not met'}); ` +
        `the plain INSERT floor: ${baseline.opsPerSecond.toFixed(0)} events/s.`,
    ],
  };
}

// ---------------------------------------------------------------------------------------
// 2. Consumer catch-up

async function catchUpThroughput(database: BenchDatabase, user: BenchUser, context: BenchmarkContext): Promise<Table> {
  const total = CATCHUP_EVENTS;
  const single = effectConsumer('bench-catchup', 1);
  const singleBatched = effectConsumer('bench-catchup-batched', 1, { batched: true });
  const partitioned = effectConsumer('bench-catchup-p4', 4);
  const noop = effectConsumer('bench-catchup-noop', 1, { effect: false });
  const multiRunner = database.kind === 'postgres';

  // Set-up on an app without workers: the backlog, the floor, and both consumers'
  // checkpoints moved to just before the backlog (the log already holds group 1's events).
  const baseline = await withApp(database, {}, async (app) => {
    const db = app.database.db;
    const from = await endOfLog(db);
    context.progress(`${database.kind}: catch-up: appending ${total} events (bulk INSERT, ${BULK_BATCH} per statement)`);
    const actor = actorOf(user);
    for (let done = 0; done < total; done += BULK_BATCH) {
      context.signal.throwIfAborted();
      const now = new Date();
      const rows = Array.from({ length: Math.min(BULK_BATCH, total - done) }, (_, i) =>
        eventRow(actor, now, taskCreated(user, done + i)),
      );
      await db.insertInto('events').values(rows).execute();
    }
    const started = performance.now();
    const inserted = await sql`
      INSERT INTO bench_effects (consumer, event_id, seq)
      SELECT 'baseline', event_id, seq FROM events
      WHERE (tx_id, seq) > (${from.txId}::xid8, ${from.seq}::bigint)`.execute(db);
    const seconds = (performance.now() - started) / 1000;
    if (Number(inserted.numAffectedRows) !== total)
      throw new Error(`baseline copied ${inserted.numAffectedRows} of ${total} rows`);
    for (const consumer of multiRunner ? [single, singleBatched, partitioned, noop] : [single, singleBatched, noop])
      await setCheckpoints(db, consumer, from);
    return throughputOnly('INSERT … SELECT of the same rows (one statement)', total, seconds);
  });

  const measured: Measurement[] = [];
  const batchNotes: string[] = [];
  const run = async (name: string, consumers: EffectConsumer[]) => {
    context.progress(`${database.kind}: catch-up: ${name}`);
    const { measurement, stats } = await drain(name, database, consumers, total, context);
    measured.push(measurement);
    batchNotes.push(`${name}: ${describeBatches(stats)}.`);
  };
  await run('runner: 1 consumer, 1 partition', [single]);
  await run('runner: 1 consumer with handleBatch (one INSERT per batch), 1 partition', [singleBatched]);
  if (multiRunner) await run('runner: 2 apps × 1 consumer, 4 partitions', [partitioned, partitioned]);
  // What the runner costs without the handler's INSERT: SAVEPOINT/RELEASE and the batch.
  if (DIAGNOSTICS) await run('diagnostic: runner, no-op handler, 1 partition', [noop]);
  const best = Math.max(...measured.filter((m) => !m.name.startsWith('diagnostic')).map((m) => m.opsPerSecond));
  return {
    group: `consumer catch-up (backlog of ${total} events, one INSERT per event)`,
    unit: 'events/s',
    baselineLabel: 'INSERT … SELECT',
    ratios: ['throughput'],
    baseline,
    measured,
    notes: [
      `Target (issue): ≥ ${TARGET_EVENTS_PER_S} events/s end to end on 2 cores. Best consumer rate here: ` +
        `${best.toFixed(0)} events/s (${best >= TARGET_EVENTS_PER_S ? 'met' : 'not met'}).`,
      ...batchNotes,
      ...(multiRunner ? [] : ['2 runners: not measured (one process owns a PGlite data directory).']),
    ],
  };
}

/** One app per entry of `consumers` (the same consumer twice = 2 runners), started together; timed to lag 0. */
async function drain(
  name: string,
  database: BenchDatabase,
  consumers: EffectConsumer[],
  total: number,
  context: BenchmarkContext,
): Promise<{ measurement: Measurement; stats: RunnerStats }> {
  const apps: App[] = [];
  try {
    // One after the other: concurrent start-ups would race on the (already applied) migrations.
    for (const consumer of consumers) apps.push(await createApp(benchConfig(database), { extraConsumers: [consumer] }));
    const [first] = apps;
    const consumer = consumers[0];
    if (!first || !consumer) throw new Error('no runner');
    const started = performance.now();
    await Promise.all(apps.map((app) => app.startWorkers()));
    // The in-memory count is free to poll; lag() (a query) only confirms the last commit.
    await until(
      () => consumer.handled >= total,
      context.signal,
      () => `${name}: ${consumer.handled} of ${total} handled`,
    );
    await until(
      async () => (await first.consumers.lag()).every((l) => l.consumer !== consumer.name || l.events === 0),
      context.signal,
      () => `${name}: lag did not reach 0`,
    );
    const seconds = (performance.now() - started) / 1000;
    if (consumer.effect) {
      const effects = await countEffects(first.database.db, consumer.name);
      if (effects !== total) throw new Error(`${name}: ${effects} effect rows for ${total} events (exactly once broken?)`);
    }
    return { measurement: throughputOnly(name, total, seconds), stats: await runnerStats(apps, consumer.name) };
  } finally {
    await Promise.all(apps.map((app) => app.close()));
  }
}

// ---------------------------------------------------------------------------------------
// 3. End-to-end lag at a steady rate

async function endToEndLag(database: BenchDatabase, user: BenchUser, context: BenchmarkContext): Promise<Table> {
  const { durationS, warmupS, concurrency } = context.settings;
  const paced: Paced = (seconds, operation) =>
    runPaced({ ratePerS: LAG_RATE, workers: concurrency, durationS: seconds, signal: context.signal, operation });
  const measured: Measurement[] = [];
  const notes: string[] = [];
  const verdicts: string[] = [];
  const record = (result: LagResult) => {
    measured.push(result.measurement);
    notes.push(result.note);
    verdicts.push(result.verdict);
  };

  // Baseline and the in-process runner share one app: the baseline runs before its workers start.
  const inProcess = lagConsumer('bench-lag');
  const baseline = await withApp(database, { extraConsumers: [inProcess] }, async (app) => {
    const db = app.database.db;
    const lags: number[] = [];
    let phase = 'warm-up';
    // payload = "<phase> <occurred_at ms>"; the empty payload is the listener's own (re)connect nudge.
    const unlisten = await app.database.listen('bench_probe', (payload) => {
      const [of, at] = payload.split(' ');
      if (of === 'measure') lags.push(Date.now() - Number(at));
    });
    let n = 0;
    const probe = () =>
      db.transaction().execute(async (tx) => {
        const now = new Date();
        await tx
          .insertInto('events')
          .values(eventRow(actorOf(user), now, taskCreated(user, ++n)))
          .execute();
        await sql`SELECT pg_notify('bench_probe', ${`${phase} ${now.getTime()}`})`.execute(tx);
      });
    context.progress(`${database.kind}: lag: NOTIFY round trip at ${LAG_RATE}/s, ${durationS} s`);
    await paced(warmupS, probe);
    phase = 'measure';
    const run = await paced(durationS, probe);
    await until(
      () => lags.length >= run.operations,
      context.signal,
      () => `${lags.length} of ${run.operations} notifications arrived`,
    );
    await unlisten();
    const baseline = summarize('NOTIFY round trip (INSERT event + pg_notify → LISTEN)', lags, run.seconds);
    // ops/s of a lag row is the writer's achieved rate, not the listener's.
    baseline.opsPerSecond = run.operations / run.seconds;

    await setCheckpoints(db, inProcess, await endOfLog(db));
    await app.startWorkers();
    context.progress(`${database.kind}: lag: runner in the writer's process at ${LAG_RATE}/s, ${durationS} s`);
    record(await measureLag('runner in the writing app (nudge + NOTIFY)', app, app, inProcess, user, paced, context));
    return baseline;
  });

  // The same effect rows written set-based (Consumer.handleBatch: one INSERT per batch).
  const batched = lagConsumer('bench-lag-batched', { batched: true });
  await withApp(database, { extraConsumers: [batched] }, async (app) => {
    await setCheckpoints(app.database.db, batched, await endOfLog(app.database.db));
    await app.startWorkers();
    context.progress(`${database.kind}: lag: runner with handleBatch in the writer's process at ${LAG_RATE}/s, ${durationS} s`);
    record(await measureLag('runner in the writing app, handleBatch', app, app, batched, user, paced, context));
  });

  if (database.kind === 'postgres') {
    // `taskflow serve` + `taskflow worker`: the worker learns of commits by NOTIFY alone.
    const remote = lagConsumer('bench-lag-worker');
    await withApp(database, {}, async (writer) => {
      await setCheckpoints(writer.database.db, remote, await endOfLog(writer.database.db));
      await withApp(database, { extraConsumers: [remote] }, async (worker) => {
        await worker.startWorkers();
        context.progress(`${database.kind}: lag: runner in another app (NOTIFY only) at ${LAG_RATE}/s, ${durationS} s`);
        record(await measureLag('runner in a separate worker app (NOTIFY only)', writer, worker, remote, user, paced, context));
      });
    });
  } else {
    notes.push('Separate worker app: not measured (one process owns a PGlite data directory).');
  }

  notes.unshift(
    `Target (issue): lag p99 < ${TARGET_LAG_P99_MS} ms at 1000 events/s: ${verdicts.join('; ')}.`,
    "Lag = Date.now() at the end of handle() − occurred_at (1 ms resolution; occurred_at is set before the writer's " +
      'INSERT): it includes the INSERT and COMMIT, not time the writer waited for a connection.',
  );
  return {
    group: `end-to-end lag at ${LAG_RATE} events/s (${concurrency} paced writers, 1 event per transaction)`,
    unit: 'events/s written',
    baselineLabel: 'NOTIFY',
    showMax: true,
    ratios: ['p50'],
    baseline,
    measured,
    notes,
  };
}

type Paced = (seconds: number, operation: () => Promise<unknown>) => Promise<PacedResult>;

interface LagResult {
  measurement: Measurement;
  /** Batches and how far the writer fell behind, for the notes. */
  note: string;
  verdict: string;
}

/** Warm-up, then the measured phase of a paced writer on `writer`; `worker` runs `consumer`. */
async function measureLag(
  name: string,
  writer: App,
  worker: App,
  consumer: LagConsumer,
  user: BenchUser,
  paced: Paced,
  context: BenchmarkContext,
): Promise<LagResult> {
  let n = 0;
  let phase = 'warm-up';
  const write = () => {
    const actor = actorOf(user);
    const event = taskCreated(user, ++n, { bench_phase: phase });
    return writer.transact((tx) => appendEvents(tx, actor, new Date(), [event]));
  };
  await paced(context.settings.warmupS, write);
  phase = 'measure';
  consumer.recordPhase = 'measure';
  const before = await runnerStats([worker], consumer.name);
  const run = await paced(context.settings.durationS, write);
  await until(
    () => consumer.lags.size >= run.operations,
    context.signal,
    () => `${name}: ${consumer.lags.size} of ${run.operations} events handled`,
    Math.max(30, 3 * context.settings.durationS) * 1000,
  );
  const stats = diffStats(await runnerStats([worker], consumer.name), before);
  const measurement = summarize(name, [...consumer.lags.values()], run.seconds);
  measurement.opsPerSecond = run.operations / run.seconds;
  const reached = measurement.opsPerSecond >= 0.95 * LAG_RATE;
  const verdict = !reached
    ? `${name}: not met, the writer reached only ${measurement.opsPerSecond.toFixed(0)} of ${LAG_RATE} events/s`
    : `${name}: p99 ${measurement.p99Ms.toFixed(0)} ms, ${measurement.p99Ms < TARGET_LAG_P99_MS ? 'met' : 'not met'}`;
  const note =
    `${name}: ${describeBatches(stats)} (${(stats.batches / run.seconds).toFixed(0)} per s); ` +
    `writer at most ${run.maxBehindMs.toFixed(0)} ms behind its schedule.`;
  return { measurement, note, verdict };
}

// ---------------------------------------------------------------------------------------
// Consumers, rows and helpers

interface EffectConsumer extends Consumer {
  /** handle() calls so far (a rolled-back batch would count twice; lag() confirms). */
  handled: number;
  /** Whether handle() writes its row (false: the runner's own cost alone). */
  effect: boolean;
}

/**
 * The trivial database-effect consumer: one row per event, written with the checkpoint.
 * `batched`: the same rows through handleBatch, one multi-row INSERT per batch.
 */
function effectConsumer(name: string, partitions: number, { effect = true, batched = false } = {}): EffectConsumer {
  const consumer: EffectConsumer = {
    name,
    handles: 'all',
    partitions,
    handled: 0,
    effect,
    async handle(event, tx) {
      if (effect) {
        await sql`INSERT INTO bench_effects (consumer, event_id, seq) VALUES (${name}, ${event.eventId}, ${event.seq})`.execute(
          tx.q,
        );
      }
      consumer.handled++;
    },
    ...(batched && {
      async handleBatch(events, tx) {
        await insertEffects(tx.q, name, events);
        consumer.handled += events.length;
      },
    }),
  };
  return consumer;
}

function insertEffects(q: Kysely<DB>, name: string, events: readonly { eventId: string; seq: string }[]) {
  const rows = events.map((e) => sql`(${name}, ${e.eventId}::uuid, ${e.seq}::bigint)`);
  return sql`INSERT INTO bench_effects (consumer, event_id, seq) VALUES ${sql.join(rows)}`.execute(q);
}

interface RunnerStats {
  /** Batch transactions that claimed their partition (including those that read nothing). */
  batches: number;
  handled: number;
  batchSeconds: number;
}

/** The runner's own metrics for one consumer, summed over apps (counters since each app started). */
async function runnerStats(apps: App[], consumer: string): Promise<RunnerStats> {
  const stats: RunnerStats = { batches: 0, handled: 0, batchSeconds: 0 };
  for (const app of apps) {
    const registry = app.metrics.registry;
    const batch = await (registry.getSingleMetric('taskflow_consumer_batch_duration_seconds') as Histogram | undefined)?.get();
    const handled = await registry.getSingleMetric('taskflow_consumer_events_handled_total')?.get();
    for (const v of batch?.values ?? []) {
      if (v.labels.consumer !== consumer) continue;
      if (v.metricName?.endsWith('_count')) stats.batches += v.value;
      if (v.metricName?.endsWith('_sum')) stats.batchSeconds += v.value;
    }
    for (const v of handled?.values ?? []) if (v.labels.consumer === consumer) stats.handled += v.value;
  }
  return stats;
}

const diffStats = (after: RunnerStats, before: RunnerStats): RunnerStats => ({
  batches: after.batches - before.batches,
  handled: after.handled - before.handled,
  batchSeconds: after.batchSeconds - before.batchSeconds,
});

function describeBatches({ batches, handled, batchSeconds }: RunnerStats): string {
  if (batches === 0) return 'no batch';
  return (
    `${batches} batch transactions, ${(handled / batches).toFixed(1)} events per batch, ` +
    `mean batch ${((batchSeconds / batches) * 1000).toFixed(1)} ms`
  );
}

interface LagConsumer extends Consumer {
  /** Events of this bench_phase get their lag recorded. */
  recordPhase: string | null;
  /** event id → ms from occurred_at to the end of handle(); the first handling counts. */
  lags: Map<string, number>;
}

function lagConsumer(name: string, { batched = false } = {}): LagConsumer {
  const record = (event: StoredEvent) => {
    const lag = Date.now() - event.occurredAt.getTime();
    if (consumer.recordPhase !== null && event.data.bench_phase === consumer.recordPhase && !consumer.lags.has(event.eventId)) {
      consumer.lags.set(event.eventId, lag);
    }
  };
  const consumer: LagConsumer = {
    name,
    handles: 'all',
    recordPhase: null,
    lags: new Map(),
    async handle(event, tx) {
      await sql`INSERT INTO bench_effects (consumer, event_id, seq) VALUES (${name}, ${event.eventId}, ${event.seq})`.execute(
        tx.q,
      );
      record(event);
    },
    ...(batched && {
      async handleBatch(events, tx) {
        await insertEffects(tx.q, name, events);
        for (const event of events) record(event);
      },
    }),
  };
  return consumer;
}

const actorOf = (user: BenchUser): Actor => ({ userId: user.id, correlationId: randomUUID() });

/** A task.created event with the payload the service writes for TASK. */
function taskCreated(user: BenchUser, n: number, extra: Record<string, unknown> = {}): NewEvent {
  return {
    type: 'task.created',
    aggregateType: 'task',
    aggregateId: randomUUID(),
    aggregateVersion: 1,
    userId: user.id,
    data: {
      list_id: user.inboxListId,
      title: `Benchmark task ${n}`,
      description: TASK.description,
      due_date: null,
      due_at: DUE_INSTANT,
      time_zone: TASK.time_zone,
      priority: TASK.priority,
      tags: TASK.tags,
      status: 'open',
      completed_at: null,
      ...extra,
    },
  };
}

/** The row appendEvents writes for `event`, column for column (event_id, JSON text of data, …). */
function eventRow(actor: Actor, now: Date, event: NewEvent): Insertable<DB['events']> {
  return {
    event_id: randomUUID(),
    type: event.type,
    user_id: event.userId,
    actor_id: actor.userId,
    aggregate_type: event.aggregateType,
    aggregate_id: event.aggregateId,
    aggregate_version: event.aggregateVersion,
    correlation_id: actor.correlationId,
    causation_id: event.causationId ?? null,
    occurred_at: now,
    data: JSON.stringify(event.data),
  };
}

interface LogPosition {
  txId: string;
  seq: string;
}

/** The (tx_id, seq) of the last event; call with no writer running. */
async function endOfLog(db: Kysely<DB>): Promise<LogPosition> {
  const result = await sql<LogPosition>`
    SELECT tx_id::text AS "txId", seq FROM events ORDER BY tx_id DESC, seq DESC LIMIT 1`.execute(db);
  return result.rows[0] ?? { txId: '0', seq: '0' };
}

/** Starts every partition of a (new) consumer at `at`, so it sees only later events. */
async function setCheckpoints(db: Kysely<DB>, consumer: Consumer, at: LogPosition): Promise<void> {
  await sql`
    INSERT INTO consumer_checkpoints (consumer, partition, tx_id, seq)
    SELECT ${consumer.name}, p, ${at.txId}::xid8, ${at.seq}::bigint
    FROM generate_series(0, ${(consumer.partitions ?? 1) - 1}) AS p
    ON CONFLICT (consumer, partition) DO UPDATE SET tx_id = excluded.tx_id, seq = excluded.seq`.execute(db);
}

async function countEffects(db: Kysely<DB>, consumer: string): Promise<number> {
  const result = await sql<{ n: number }>`SELECT count(*)::int AS n FROM bench_effects WHERE consumer = ${consumer}`.execute(db);
  return result.rows[0]?.n ?? 0;
}

async function withApp<T>(database: BenchDatabase, options: AppOptions, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(benchConfig(database), options);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Polls `condition` every 5 ms; throws `failure` after `timeoutMs` (default 120 s). */
async function until(
  condition: () => boolean | Promise<boolean>,
  signal: AbortSignal,
  failure: () => string,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    signal.throwIfAborted();
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s: ${failure()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function positiveInt(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${variable} must be a positive integer, got "${raw}"`);
  return value;
}
