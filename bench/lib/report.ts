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
  /** Names the table when a benchmark prints several per database. */
  group?: string;
  /** Header of the throughput column (default "req/s"). */
  unit?: string;
  /** The baseline's name in the ratio header, when it differs from the benchmark's baselineLabel. */
  baselineLabel?: string;
  /**
   * Ratio columns, in order (default ["p50"]): "p50" = p50 / baseline p50 (overhead),
   * "throughput" = ops/s / baseline ops/s (share of the baseline's rate).
   */
  ratios?: Array<'p50' | 'throughput'>;
  /** Adds a "max ms" column. */
  showMax?: boolean;
  /** Lines printed under the table and kept in the JSON (targets, caveats). */
  notes?: string[];
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

/** Rows in display order (measured paths, then the baseline) with their ratios to it. */
export function rowsOf(comparison: Comparison) {
  const { baseline } = comparison;
  return [...comparison.measured, baseline].map((m) => ({
    ...m,
    p50Ratio: m.p50Ms / baseline.p50Ms,
    throughputRatio: m.opsPerSecond / baseline.opsPerSecond,
  }));
}

export function formatComparison(comparison: Comparison, baselineLabel: string): string {
  const label = comparison.baselineLabel ?? baselineLabel;
  const ratios = comparison.ratios ?? ['p50'];
  const ms = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(2));
  const header = [
    '',
    comparison.unit ?? 'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    ...(comparison.showMax ? ['max ms'] : []),
    ...ratios.map((r) => (r === 'p50' ? `overhead vs ${label} (p50 ratio)` : `${comparison.unit ?? 'req/s'} vs ${label}`)),
  ];
  const rows = rowsOf(comparison).map((r) => [
    r.name,
    r.opsPerSecond.toFixed(0),
    ms(r.p50Ms),
    ms(r.p95Ms),
    ms(r.p99Ms),
    ...(comparison.showMax ? [ms(r.maxMs)] : []),
    ...ratios.map((k) => {
      const v = k === 'p50' ? r.p50Ratio : r.throughputRatio;
      // Small shares (a runner against one bulk statement) keep two significant digits.
      return Number.isNaN(v) ? '–' : `${v >= 0.1 ? v.toFixed(2) : v.toPrecision(2)}×`;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  // Text left-aligned, numbers right-aligned, as a Markdown table.
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const name = comparison.group ? `${comparison.database.kind}, ${comparison.group}` : comparison.database.kind;
  const title = `**${name}** — ${shortVersion(comparison.database.version)}`;
  const notes = comparison.notes?.length ? ['', ...comparison.notes.map((n) => `- ${n}`)] : [];
  return [title, '', line(header), rule, ...rows.map(line), ...notes].join('\n');
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
  const comparisons = report.comparisons.map((comparison) => {
    const { baseline, measured, ...table } = comparison;
    return { ...table, baseline: baseline.name, rows: rowsOf(comparison) };
  });
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
