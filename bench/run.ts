// Runs every benchmark, or those named on the command line (`npm run bench -- http-create-task`).
// Each prints one table per database and writes JSON to bench/results/. Settings come from
// the environment: BENCH_DURATION_S (default 10), BENCH_WARMUP_S (default 1), DATABASE_URL.
import path from 'node:path';
import { eventsBenchmark } from './events.js';
import { httpCreateTask } from './http-create-task.js';
import type { Benchmark } from './lib/benchmark.js';
import { formatComparison, machineInfo, type Settings, writeReport } from './lib/report.js';
import { realtimeBenchmark } from './realtime.js';
import { recurrenceBenchmark } from './recurrence.js';
import { remindersBenchmark } from './reminders.js';
import { searchBenchmark } from './search.js';

const BENCHMARKS: Benchmark[] = [
  httpCreateTask,
  eventsBenchmark,
  realtimeBenchmark,
  searchBenchmark,
  remindersBenchmark,
  recurrenceBenchmark,
];

function seconds(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${variable} must be a number of seconds, got "${raw}"`);
  return value;
}

const requested = process.argv.slice(2);
const unknown = requested.filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark: ${unknown.join(', ')}. Available: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const selected = requested.length > 0 ? BENCHMARKS.filter((b) => requested.includes(b.name)) : BENCHMARKS;

const settings: Settings = {
  durationS: seconds('BENCH_DURATION_S', 10),
  warmupS: seconds('BENCH_WARMUP_S', 1),
  concurrency: 10,
};
if (settings.durationS <= 0) throw new Error('BENCH_DURATION_S must be positive');

// First Ctrl-C: stop measuring and clean up (app, temp dir, scratch database). Second: quit.
const controller = new AbortController();
process.once('SIGINT', () => {
  console.error('Interrupted: cleaning up (Ctrl-C again to quit at once)');
  controller.abort(new Error('interrupted'));
  process.once('SIGINT', () => process.exit(130));
});

for (const benchmark of selected) {
  const startedAt = new Date().toISOString();
  console.log(`\n## ${benchmark.name}\n\n${benchmark.description}\n`);
  try {
    const comparisons = await benchmark.run({
      settings,
      adminDatabaseUrl: process.env.DATABASE_URL || undefined,
      signal: controller.signal,
      progress: (message) => console.error(`[${benchmark.name}] ${message}`),
    });
    for (const comparison of comparisons) console.log(`${formatComparison(comparison, benchmark.baselineLabel)}\n`);
    const file = writeReport({ benchmark: benchmark.name, startedAt, settings, machine: machineInfo(), comparisons });
    console.log(`JSON: ${path.relative(process.cwd(), file)}`);
  } catch (err) {
    process.exitCode = 1;
    if (controller.signal.aborted) {
      console.error(`[${benchmark.name}] interrupted; cleaned up`);
      break;
    }
    console.error(`[${benchmark.name}] failed:`, err);
  }
}
