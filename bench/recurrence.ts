// bench/recurrence: the recurrence generator (src/recurrence/consumer.ts) on BENCH_RECURRING
// (10,000) recurring instances completed through the API, in two phases:
//  1. catch-up (consumer throughput): every instance is completed while the workers are
//     stopped, then the workers start and we time until all next instances exist;
//  2. live (lag): the instances made by phase 1 are completed through the API (16 in flight)
//     while the consumer runs; a poller (every POLL_MS) notes when each next instance first
//     becomes visible to a reader, and lag = that moment − the completion's completed_at.
//     When completions outrun the consumer this lag is mostly queueing, hence
//  3. paced (lag): 1,000 of the instances made by phase 2 completed at BENCH_RECURRENCE_RATE/s.
// Baseline, same run and database: one raw INSERT … SELECT per next instance (the minimum
// a consumer writes per event), in transactions of 200 as the runner batches; plus, for
// scale, one INSERT … SELECT of all of them.
import { type Kysely, sql } from 'kysely';
import { type App, createApp } from '../src/app.js';
import type { DB } from '../src/db/tables.js';
import { toStoredEvent } from '../src/events/append-events.js';
import { createLogger } from '../src/observability/logger.js';
import { generateNextInstance } from '../src/recurrence/consumer.js';
import { benchConfig, serverVersion } from './lib/bench-app.js';
import type { Benchmark } from './lib/benchmark.js';
import { availableKinds, createBenchDatabase } from './lib/databases.js';
import { summarize, throughputOnly } from './lib/measurement.js';
import type { Comparison } from './lib/report.js';

const count = Number(process.env.BENCH_RECURRING || 10_000);
const CONCURRENCY = 16;
const POLL_MS = 20;
const BATCH = 200;
const DEADLINE_MS = 600_000;
// Phase 3: completions at a rate the consumer can follow, so the lag is not queueing.
const PACED_RATE = Number(process.env.BENCH_RECURRENCE_RATE || 50);
const PACED_COUNT = Math.min(count, 1000);

export const recurrenceBenchmark: Benchmark = {
  name: 'recurrence',
  description: `Complete ${count} recurring instances through the API: consumer catch-up throughput (workers started after the completions) and live completion → next-instance-visible lag, against one raw INSERT per next instance.`,
  baselineLabel: 'raw INSERT',
  async run({ adminDatabaseUrl, progress }) {
    const comparisons: Comparison[] = [];
    // BENCH_RECURRENCE_DATABASES=postgres runs one of them; BENCH_LOG_LEVEL=warn shows consumer trouble.
    const only = process.env.BENCH_RECURRENCE_DATABASES?.split(',');
    for (const kind of availableKinds(adminDatabaseUrl).filter((k) => !only || only.includes(k))) {
      const database = await createBenchDatabase(kind, adminDatabaseUrl);
      const app = await createApp(benchConfig(database), { log: createLogger(process.env.BENCH_LOG_LEVEL ?? 'silent') });
      try {
        const signup = await app.http.inject({
          method: 'POST',
          url: '/api/v1/auth/signup',
          payload: { email: 'bench@example.com', password: 'correct horse battery', time_zone: 'Europe/Berlin' },
        });
        const token = (signup.json() as { access_token: string }).access_token;
        const headers = { authorization: `Bearer ${token}` };
        const db = app.database.db;
        progress(`${kind}: creating ${count} recurring tasks`);
        const first: string[] = [];
        await inParallel(count, async (i) => {
          const res = await app.http.inject({
            method: 'POST',
            url: '/api/v1/tasks',
            headers,
            payload: {
              title: `Recurring ${i}`,
              due_at: '2030-03-29T09:00',
              tags: ['bench'],
              recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR' },
            },
          });
          first.push((res.json() as { id: string }).id);
        });
        const listId = (await db.selectFrom('tasks').select('list_id').limit(1).executeTakeFirstOrThrow()).list_id;
        const complete = (id: string) => app.http.inject({ method: 'POST', url: `/api/v1/tasks/${id}/complete`, headers });

        progress(`${kind}: phase 1, completing ${count} with the workers stopped`);
        await inParallel(count, (i) => complete(first[i] as string).then(() => {}));
        progress(`${kind}: phase 1, the handler alone over the backlog (rolled back)`);
        const handlerAlone = await handlerOverBacklog(app);
        progress(`${kind}: phase 1, consumer catch-up`);
        const catchUpStart = performance.now();
        await app.startWorkers();
        await waitForGenerated(db, count, progress);
        const catchUp = throughputOnly(
          `consumer catch-up: ${count} completions → next instances`,
          count,
          (performance.now() - catchUpStart) / 1000,
        );

        progress(`${kind}: phase 2, completing the next ${count} while the consumer runs`);
        const second = (
          await db
            .selectFrom('tasks')
            .select('id')
            .where('previous_task_id', 'is not', null)
            .where('status', '=', 'open')
            .execute()
        ).map((r) => r.id);
        const live = await measureLive(app, listId, second, complete, null);
        const third = (
          await db.selectFrom('tasks').select('id').where('previous_task_id', 'in', second).limit(PACED_COUNT).execute()
        ).map((r) => r.id);
        progress(`${kind}: phase 3, ${third.length} completions paced at ${PACED_RATE}/s`);
        const paced = await measureLive(app, listId, third, complete, PACED_RATE);

        progress(`${kind}: baseline`);
        const baseline = await rawInserts(db, second);
        const bulkStart = performance.now();
        await sql`
          INSERT INTO tasks (id, list_id, created_by, title, description, due_at, time_zone, priority)
          SELECT gen_random_uuid(), list_id, created_by, title, description, due_at + interval '1 week', time_zone, priority
          FROM tasks WHERE id = ANY(${second}::uuid[])`.execute(db);
        const bulk = throughputOnly(
          `reference: one INSERT … SELECT of ${count} rows`,
          count,
          (performance.now() - bulkStart) / 1000,
        );
        comparisons.push({
          database: { kind, version: await serverVersion(app) },
          baseline,
          measured: [handlerAlone, catchUp, live, paced, bulk],
          unit: 'next/s',
          ratios: ['throughput'],
          showMax: true,
          notes: [
            `Live latency: completed_at → first seen by a reader polling every ${POLL_MS} ms (includes up to one poll interval).`,
            'Catch-up and live include the runner (claim, read, checkpoint per batch) and the other consumers in the same loop (reminder planner and deliveries), which read these events too.',
          ],
        });
      } finally {
        await app.close();
        await database.drop();
      }
    }
    return comparisons;
  },
};

async function waitForGenerated(db: Kysely<DB>, n: number, progress: (m: string) => void): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const row = await db
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('previous_task_id', 'is not', null)
      .executeTakeFirstOrThrow();
    if (Number(row.n) >= n) return;
    if (Date.now() > deadline) {
      const dead = await db
        .selectFrom('dead_letters')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirst();
      throw new Error(`only ${row.n}/${n} next instances after ${DEADLINE_MS / 1000} s (${dead?.n} dead letters)`);
    }
    if (Math.random() < 0.01) progress(`  ${row.n}/${n}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Completes `ids` through the API while a reader polls for their next instances. */
/**
 * Completes `ids` through the API while a reader polls for their next instances: as fast as
 * CONCURRENCY requests in flight allow (rate null), or paced at `rate` completions a second.
 */
async function measureLive(
  app: App,
  listId: string,
  ids: string[],
  complete: (id: string) => Promise<unknown>,
  rate: number | null,
) {
  const db = app.database.db;
  const pending = new Set(ids);
  const sentAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const started = Date.now();
  const poller = (async () => {
    const deadline = Date.now() + DEADLINE_MS;
    while (pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`${pending.size} next instances never appeared`);
      // A next instance is created (created_at, same clock) after its completion was sent:
      // read only rows newer than the oldest completion still waiting (index on list_id, created_at).
      let since = Date.now();
      for (const id of pending) since = Math.min(since, sentAt.get(id) ?? since);
      const rows = await db
        .selectFrom('tasks')
        .select('previous_task_id')
        .where('list_id', '=', listId)
        .where('created_at', '>=', new Date(since - 100))
        .where('previous_task_id', 'is not', null)
        .execute();
      const now = Date.now();
      for (const { previous_task_id: prev } of rows) {
        if (prev && pending.delete(prev)) seenAt.set(prev, now);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  const send = (id: string) => {
    sentAt.set(id, Date.now());
    return complete(id).then(() => {});
  };
  if (rate === null) await inParallel(ids.length, (i) => send(ids[i] as string));
  else {
    const inFlight: Promise<void>[] = [];
    for (const [i, id] of ids.entries()) {
      const wait = started + (i * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(send(id));
    }
    await Promise.all(inFlight);
  }
  await poller;
  const completed = await db.selectFrom('tasks').select(['id', 'completed_at']).where('id', 'in', ids).execute();
  const lags = completed.map((r) => (seenAt.get(r.id) as number) - (r.completed_at as Date).getTime());
  const last = Math.max(...seenAt.values());
  const name =
    rate === null
      ? `live: ${ids.length} completions, ${CONCURRENCY} in flight → next instance visible`
      : `paced: ${ids.length} completions at ${rate}/s → next instance visible`;
  return summarize(name, lags, (last - started) / 1000);
}

class RolledBack extends Error {}

/**
 * generateNextInstance called directly on every task.completed of the backlog, BATCH per
 * transaction as the runner batches, each transaction rolled back so that the real
 * catch-up finds the backlog intact: the recurrence consumer's own cost, without the
 * runner's claim/read/checkpoint statements and without the other consumers.
 */
async function handlerOverBacklog(app: App) {
  const rows = await app.database.db
    .selectFrom('events')
    .selectAll()
    .where('type', '=', 'task.completed')
    .orderBy('seq')
    .execute();
  const events = rows.map(toStoredEvent);
  const started = performance.now();
  for (let i = 0; i < events.length; i += BATCH) {
    await app
      .transact(async (tx) => {
        for (const event of events.slice(i, i + BATCH)) await generateNextInstance(tx, event, new Date());
        throw new RolledBack();
      })
      .catch((err: unknown) => {
        if (!(err instanceof RolledBack)) throw err;
      });
  }
  return throughputOnly(
    `the handler alone: generateNextInstance, ${BATCH} per transaction`,
    events.length,
    (performance.now() - started) / 1000,
  );
}

/** The baseline: one INSERT … SELECT per next instance, `BATCH` per transaction. */
async function rawInserts(db: Kysely<DB>, ids: string[]) {
  const started = performance.now();
  for (let i = 0; i < ids.length; i += BATCH) {
    await db.transaction().execute(async (tx) => {
      for (const id of ids.slice(i, i + BATCH)) {
        await sql`
          INSERT INTO tasks (id, list_id, created_by, title, description, due_at, time_zone, priority)
          SELECT gen_random_uuid(), list_id, created_by, title, description, due_at + interval '1 week', time_zone, priority
          FROM tasks WHERE id = ${id}`.execute(tx);
      }
    });
  }
  return throughputOnly(
    `raw INSERT … SELECT per next instance, ${BATCH} per transaction`,
    ids.length,
    (performance.now() - started) / 1000,
  );
}

async function inParallel(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (i < n) await fn(i++);
    }),
  );
}
