// The contract between bench/run.ts and one benchmark module: a name to select it by, and
// `run`, which measures its paths against a baseline on every available database. Results
// are not judged here: no thresholds, only the comparison within one run.
import type { Comparison, Settings } from './report.js';

export interface BenchmarkContext {
  settings: Settings;
  /** DATABASE_URL of the run: an admin URL to create scratch databases with, if set. */
  adminDatabaseUrl: string | undefined;
  /** Aborted on Ctrl-C: stop measuring, then clean up as on any failure. */
  signal: AbortSignal;
  /** Progress lines (stderr), so stdout carries only the tables. */
  progress(message: string): void;
}

export interface Benchmark {
  name: string;
  /** One line: what is measured, and against what. */
  description: string;
  /** How the baseline is called in the ratio column, e.g. "raw SQL". */
  baselineLabel: string;
  run(context: BenchmarkContext): Promise<Comparison[]>;
}
