// What a benchmark run produces: per database, a baseline and the measured paths, printed
// as a Markdown table (pasteable into bench/README.md) and kept as JSON in bench/results/
// with enough context (machine, commit, settings) to tell two runs apart.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Measurement } from './measurement.js';

export interface Comparison {
  database: { kind: string; version: string };
  /** What the others are divided by; measured in the same run, on the same database. */
  baseline: Measurement;
  measured: Measurement[];
}

export interface Settings {
  durationS: number;
  warmupS: number;
  concurrency: number;
}

export interface Report {
  benchmark: string;
  startedAt: string;
  settings: Settings;
  machine: ReturnType<typeof machineInfo>;
  comparisons: Comparison[];
}

const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Rows in display order (measured paths, then the baseline) with their p50 ratio to it. */
export function rowsOf(comparison: Comparison) {
  return [...comparison.measured, comparison.baseline].map((m) => ({ ...m, p50Ratio: m.p50Ms / comparison.baseline.p50Ms }));
}

export function formatComparison(comparison: Comparison, baselineLabel: string): string {
  const header = ['', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', `overhead vs ${baselineLabel} (p50 ratio)`];
  const rows = rowsOf(comparison).map((r) => [
    r.name,
    r.opsPerSecond.toFixed(0),
    r.p50Ms.toFixed(2),
    r.p95Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    `${r.p50Ratio.toFixed(2)}×`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Text left-aligned, numbers right-aligned, as a Markdown table.
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const title = `**${comparison.database.kind}** — ${shortVersion(comparison.database.version)}`;
  return [title, '', line(header), rule, ...rows.map(line)].join('\n');
}

export function machineInfo() {
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: { count: os.availableParallelism(), model: os.cpus()[0]?.model ?? 'unknown' },
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    git: gitState(),
  };
}

/** Writes the report as bench/results/<benchmark>-<timestamp>.json; returns the path. */
export function writeReport(report: Report): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const file = path.join(RESULTS_DIR, `${report.benchmark}-${stamp}.json`);
  const comparisons = report.comparisons.map((c) => ({ database: c.database, baseline: c.baseline.name, rows: rowsOf(c) }));
  writeFileSync(file, `${JSON.stringify({ ...report, comparisons }, null, 2)}\n`);
  return file;
}

// "PostgreSQL 15.4 (Debian ...) on x86_64-pc-linux-gnu, compiled by ..." → "PostgreSQL 15.4 (Debian ...)"
const shortVersion = (version: string) => version.split(' on ')[0] ?? version;

function gitState(): { commit: string; dirty: boolean } | null {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { commit: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain').length > 0 };
  } catch {
    return null;
  }
}
