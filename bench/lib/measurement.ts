// One measured workload reduced to the numbers every benchmark reports: throughput and
// latency percentiles. Both the HTTP load and the in-process loops go through `summarize`,
// so the rows of a table are computed the same way and can be compared.

export interface Measurement {
  name: string;
  operations: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentile (q in 0..1) of ascending-sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1] ?? Number.NaN;
}

/** Reduces per-operation latencies (ms) observed over `seconds` of wall time. */
export function summarize(name: string, latenciesMs: readonly number[], seconds: number): Measurement {
  if (latenciesMs.length === 0) throw new Error(`${name}: no operation completed`);
  const sorted = Float64Array.from(latenciesMs).sort();
  const values = Array.from(sorted);
  return {
    name,
    operations: values.length,
    seconds,
    opsPerSecond: values.length / seconds,
    p50Ms: percentile(values, 0.5),
    p95Ms: percentile(values, 0.95),
    p99Ms: percentile(values, 0.99),
    maxMs: values.at(-1) ?? Number.NaN,
  };
}

/**
 * A row with a count and a duration but no per-operation latencies (a catch-up of a whole
 * backlog, one bulk statement). Its percentiles are NaN: printed as "–", null in the JSON.
 */
export function throughputOnly(name: string, operations: number, seconds: number): Measurement {
  if (operations === 0 || !(seconds > 0)) throw new Error(`${name}: nothing was measured`);
  return {
    name,
    operations,
    seconds,
    opsPerSecond: operations / seconds,
    p50Ms: Number.NaN,
    p95Ms: Number.NaN,
    p99Ms: Number.NaN,
    maxMs: Number.NaN,
  };
}
