// bench/reminders: how late reminders fire, TaskFlow's scheduler against pg-boss 10 and
// graphile-worker 0.17 scheduling jobs with the same due times on the same PostgreSQL,
// one system at a time. Two workloads: a burst (BENCH_REMINDERS due at one instant) and a
// spread (the same number due evenly over BENCH_REMINDER_SPREAD_S). Fire delay = the
// moment the system has durably fired (TaskFlow: after the COMMIT that marked it sent and
// appended reminder.fired; the peers: when the job handler runs) minus the due time.
// Burst throughput = reminders / (last fire − due instant).
//
// Settings: BENCH_REMINDERS (10000), BENCH_REMINDER_SPREAD_S (10; the issue's figure is 60),
// BENCH_REMINDER_LEAD_S (3: scheduling must finish before the first due time).
// Peers run with their lowest-latency settings: pg-boss polls every 0.5 s (its minimum),
// graphile-worker every 100 ms with LISTEN/NOTIFY, concurrency 10 for both.

import { runMigrations as graphileMigrations, run as runGraphile } from 'graphile-worker';
import { sql } from 'kysely';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/observability/logger.js';
import { benchConfig } from './lib/bench-app.js';
import type { Benchmark } from './lib/benchmark.js';
import { createBenchDatabase } from './lib/databases.js';
import { type Measurement, summarize } from './lib/measurement.js';
import type { Comparison } from './lib/report.js';

const count = Number(process.env.BENCH_REMINDERS || 10_000);
const spreadMs = Number(process.env.BENCH_REMINDER_SPREAD_S || 10) * 1000;
const leadMs = Number(process.env.BENCH_REMINDER_LEAD_S || 3) * 1000;

interface Workload {
  name: 'burst' | 'spread';
  /** Due time of reminder i, relative to the workload's start. */
  offsetMs: (i: number) => number;
}
const ONLY = process.env.BENCH_REMINDER_WORKLOAD;
/** BENCH_REMINDER_PEERS=false: TaskFlow alone (quicker iterations on the scheduler). */
const PEERS = process.env.BENCH_REMINDER_PEERS !== 'false';
const WORKLOADS0: Workload[] = [
  { name: 'burst', offsetMs: () => 0 },
  { name: 'spread', offsetMs: (i) => Math.floor((i * spreadMs) / count) },
];
const WORKLOADS = WORKLOADS0.filter((w) => !ONLY || w.name === ONLY);

/** Waits for `count` fire delays; resolves to the Measurement. */
function collector(name: string, start: number) {
  const delays: number[] = [];
  let lastFire = start;
  let resolve: (m: Measurement) => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<Measurement>((r, reject) => {
    resolve = r;
    timer = setTimeout(() => reject(new Error(`${name}: only ${delays.length}/${count} fired`)), leadMs + spreadMs + 120_000);
  });
  return {
    fired(dueMs: number, at = Date.now()) {
      delays.push(Math.max(0, at - dueMs));
      lastFire = Math.max(lastFire, at);
      if (delays.length === count) {
        clearTimeout(timer);
        resolve(summarize(name, delays, Math.max(0.001, (lastFire - start) / 1000)));
      }
    },
    done,
  };
}

async function taskflow(url: string, w: Workload): Promise<Measurement> {
  const database = await createBenchDatabase('postgres', url);
  const app = await createApp(benchConfig(database), { log: createLogger('silent') });
  try {
    const signup = await app.http.inject({
      method: 'POST',
      url: '/api/v1/auth/signup',
      payload: { email: 'bench@example.com', password: 'correct horse battery', time_zone: 'UTC' },
    });
    const { user, access_token: token } = signup.json() as { user: { id: string }; access_token: string };
    const tasks: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await app.http.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        headers: { authorization: `Bearer ${token}` },
        payload: { title: `Task ${i}` },
      });
      tasks.push((res.json() as { id: string }).id);
    }
    // Default: the whole worker (scheduler + the delivery consumers it feeds), as deployed.
    if (process.env.BENCH_REMINDER_SCHEDULER_ONLY === 'true') await app.reminderScheduler.start();
    else await app.startWorkers();
    const start = Date.now() + leadMs;
    const c = collector(`TaskFlow scheduler, ${w.name}`, start);
    app.reminderScheduler.onFired((rows) => {
      const at = Date.now();
      for (const r of rows) c.fired(new Date(r.remind_at).getTime(), at);
    });
    const offsets = Array.from({ length: count }, (_, i) => w.offsetMs(i));
    await sql`
      INSERT INTO reminders (id, task_id, user_id, remind_at)
      SELECT gen_random_uuid(), (${tasks}::uuid[])[1 + (o.i % ${tasks.length})], ${user.id}::uuid,
             ${new Date(start)}::timestamptz + o.ms * interval '1 millisecond'
      FROM unnest(${offsets}::int[]) WITH ORDINALITY AS o(ms, i)`.execute(app.database.db);
    await sql`SELECT pg_notify('taskflow_reminders', '')`.execute(app.database.db);
    return await c.done;
  } finally {
    await app.close();
    await database.drop();
  }
}

async function pgBoss(url: string, w: Workload): Promise<Measurement> {
  const database = await createBenchDatabase('postgres', url);
  const connectionString = database.env.DATABASE_URL ?? '';
  const boss = new PgBoss({ connectionString, max: 10, supervise: false, schedule: false });
  boss.on('error', () => {});
  try {
    await boss.start();
    await boss.createQueue('fire');
    const start = Date.now() + leadMs;
    const c = collector(`pg-boss 10, ${w.name}`, start);
    await boss.work<{ due: number }>('fire', { batchSize: 100, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      const at = Date.now();
      for (const job of jobs) c.fired(job.data.due, at);
    });
    for (let i = 0; i < count; i += 1000) {
      const jobs = Array.from({ length: Math.min(1000, count - i) }, (_, k) => {
        const due = start + w.offsetMs(i + k);
        return { name: 'fire', data: { due }, startAfter: new Date(due) };
      });
      await boss.insert(jobs);
    }
    return await c.done;
  } finally {
    await boss.stop({ graceful: false, wait: true }).catch(() => {});
    await database.drop();
  }
}

async function graphileWorker(url: string, w: Workload): Promise<Measurement> {
  const database = await createBenchDatabase('postgres', url);
  const connectionString = database.env.DATABASE_URL ?? '';
  // Our own pool, so that its connections are ours to end before the database is dropped.
  const pgPool = new pg.Pool({ connectionString, max: 12 });
  pgPool.on('error', () => {});
  await graphileMigrations({ pgPool });
  const start = Date.now() + leadMs;
  const c = collector(`graphile-worker 0.17, ${w.name}`, start);
  const silent = { debug() {}, info() {}, warn() {}, error() {}, scope: () => silent } as never;
  const runner = await runGraphile({
    pgPool,
    concurrency: 10,
    pollInterval: 100,
    noHandleSignals: true,
    logger: silent,
    taskList: {
      fire: async (payload) => c.fired((payload as { due: number }).due),
    },
  }).catch((err: unknown) => {
    throw err;
  });
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    const offsets = Array.from({ length: count }, (_, i) => w.offsetMs(i));
    await client.query(
      `SELECT graphile_worker.add_job('fire', json_build_object('due', $1::bigint + o.ms), run_at := to_timestamp(($1::bigint + o.ms) / 1000.0))
       FROM unnest($2::int[]) AS o(ms)`,
      [start, offsets],
    );
    return await c.done;
  } finally {
    await client.end();
    await runner.stop();
    await pgPool.end();
    await database.drop();
  }
}

export const remindersBenchmark: Benchmark = {
  name: 'reminders',
  description: `Reminder fire delay (fired − due) and burst throughput: ${count} due at one instant, and ${count} spread over ${spreadMs / 1000} s; TaskFlow's scheduler vs pg-boss 10 and graphile-worker 0.17 on the same PostgreSQL, one at a time.`,
  baselineLabel: 'graphile-worker',
  async run({ adminDatabaseUrl, progress }) {
    if (!adminDatabaseUrl) throw new Error('bench/reminders needs DATABASE_URL (a PostgreSQL server): the peers need one');
    const version = await (async () => {
      const client = new pg.Client({ connectionString: adminDatabaseUrl });
      await client.connect();
      try {
        return (await client.query<{ version: string }>('select version()')).rows[0]?.version ?? 'unknown';
      } finally {
        await client.end();
      }
    })();
    const comparisons: Comparison[] = [];
    for (const w of WORKLOADS) {
      progress(`${w.name}: TaskFlow`);
      const ours = await taskflow(adminDatabaseUrl, w);
      const peers: Measurement[] = [];
      if (PEERS) {
        progress(`${w.name}: pg-boss`);
        peers.push(await pgBoss(adminDatabaseUrl, w));
        progress(`${w.name}: graphile-worker`);
        peers.push(await graphileWorker(adminDatabaseUrl, w));
      }
      const graphile = peers.pop();
      comparisons.push({
        database: { kind: 'postgres', version },
        group: `${w.name}: ${count} reminders ${w.name === 'burst' ? 'due at one instant' : `over ${spreadMs / 1000} s`}`,
        baseline: graphile ?? ours,
        measured: graphile ? [ours, ...peers] : [],
        unit: w.name === 'burst' ? 'fired/s' : 'fired/s (paced)',
        ratios: w.name === 'burst' ? ['throughput'] : ['p50'],
        showMax: true,
        notes:
          w.name === 'spread'
            ? ['Target: TaskFlow fire delay p99 < 100 ms.', 'Latency columns are fire delays (fired − due).']
            : ['Throughput = reminders / (last fire − due instant); latency columns are fire delays.'],
      });
    }
    return comparisons;
  },
};
