// bench/recurrence: complete BENCH_RECURRING (10000) recurring instances through the API
// while the consumers run, and measure the recurrence generator: its throughput (next
// instances per second, first completion → last next instance) and the lag from each
// completion (completed_at) to its next instance's commit (created_at of the new task,
// written by the consumer just before COMMIT). Baseline: one INSERT … SELECT creating the
// same next instances in plain SQL (no events, no rule expansion).
import { sql } from 'kysely';
import { createApp } from '../src/app.js';
import { createLogger } from '../src/observability/logger.js';
import { benchConfig, serverVersion } from './lib/bench-app.js';
import type { Benchmark } from './lib/benchmark.js';
import { availableKinds, createBenchDatabase } from './lib/databases.js';
import { summarize, throughputOnly } from './lib/measurement.js';
import type { Comparison } from './lib/report.js';

const count = Number(process.env.BENCH_RECURRING || 10_000);
const CONCURRENCY = 16;

export const recurrenceBenchmark: Benchmark = {
  name: 'recurrence',
  description: `Complete ${count} recurring instances through the API; next-instance generation throughput and completion → next-instance lag, against one INSERT … SELECT of the same rows.`,
  baselineLabel: 'plain SQL',
  async run({ adminDatabaseUrl, progress }) {
    const comparisons: Comparison[] = [];
    for (const kind of availableKinds(adminDatabaseUrl)) {
      const database = await createBenchDatabase(kind, adminDatabaseUrl);
      const app = await createApp(benchConfig(database), { log: createLogger('silent') });
      try {
        const signup = await app.http.inject({
          method: 'POST',
          url: '/api/v1/auth/signup',
          payload: { email: 'bench@example.com', password: 'correct horse battery', time_zone: 'Europe/Berlin' },
        });
        const token = (signup.json() as { access_token: string }).access_token;
        const headers = { authorization: `Bearer ${token}` };
        progress(`${kind}: creating ${count} recurring tasks`);
        const ids: string[] = [];
        const create = async (i: number) => {
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
          ids.push((res.json() as { id: string }).id);
        };
        await inParallel(count, create);
        await app.startWorkers();
        progress(`${kind}: completing them`);
        const started = Date.now();
        let next = 0;
        await inParallel(count, async () => {
          const id = ids[next++] as string;
          await app.http.inject({ method: 'POST', url: `/api/v1/tasks/${id}/complete`, headers });
        });
        const deadline = Date.now() + 300_000;
        for (;;) {
          const row = await app.database.db
            .selectFrom('tasks')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('previous_task_id', 'is not', null)
            .executeTakeFirstOrThrow();
          if (Number(row.n) >= count) break;
          if (Date.now() > deadline) throw new Error(`only ${row.n}/${count} next instances after 300 s`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const lags = await sql<{ lag_ms: number; created: Date }>`
          SELECT extract(epoch FROM n.created_at - p.completed_at) * 1000 AS lag_ms, n.created_at AS created
          FROM tasks n JOIN tasks p ON p.id = n.previous_task_id`.execute(app.database.db);
        const last = Math.max(...lags.rows.map((r) => new Date(r.created).getTime()));
        const measured = summarize(
          'TaskFlow: complete → next instance',
          lags.rows.map((r) => Number(r.lag_ms)),
          (last - started) / 1000,
        );

        progress(`${kind}: plain SQL baseline`);
        const t0 = performance.now();
        await sql`
          INSERT INTO tasks (id, list_id, created_by, title, description, due_at, time_zone, priority, recurrence, series_id)
          SELECT gen_random_uuid(), list_id, created_by, title, description, due_at + interval '1 day', time_zone, priority, recurrence, series_id
          FROM tasks WHERE previous_task_id IS NOT NULL`.execute(app.database.db);
        const baseline = throughputOnly('INSERT … SELECT of the same rows', count, (performance.now() - t0) / 1000);
        comparisons.push({
          database: { kind, version: await serverVersion(app) },
          baseline,
          measured: [measured],
          unit: 'next/s',
          ratios: ['throughput'],
          showMax: true,
          notes: ['Latency columns: completed_at → the next instance written by the consumer (its created_at).'],
        });
      } finally {
        await app.close();
        await database.drop();
      }
    }
    return comparisons;
  },
};

async function inParallel(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (i < n) await fn(i++);
    }),
  );
}
