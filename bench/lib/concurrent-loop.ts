// The in-process side of a comparison: `concurrency` async workers each run `operation`
// back to back until the deadline, timing every call with performance.now(). A warm-up
// of the same loop runs first and is discarded (JIT, pool connections, plan caches).
import { type Measurement, summarize } from './measurement.js';

export interface LoopOptions {
  name: string;
  concurrency: number;
  durationS: number;
  warmupS: number;
  signal: AbortSignal;
  operation: () => Promise<unknown>;
}

export async function measureLoop(options: LoopOptions): Promise<Measurement> {
  await runFor(options, options.warmupS);
  options.signal.throwIfAborted();
  const started = performance.now();
  const latencies = await runFor(options, options.durationS);
  const seconds = (performance.now() - started) / 1000;
  options.signal.throwIfAborted();
  return summarize(options.name, latencies, seconds);
}

async function runFor({ concurrency, signal, operation }: LoopOptions, seconds: number): Promise<number[]> {
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  // The first failure stops every worker; it is rethrown once all have returned, so
  // nothing keeps writing to a database that the caller is about to drop.
  const failures: unknown[] = [];
  const worker = async () => {
    while (failures.length === 0 && !signal.aborted && performance.now() < deadline) {
      const t0 = performance.now();
      try {
        await operation();
      } catch (error) {
        failures.push(error);
        return;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failures.length > 0) throw failures[0];
  return latencies;
}
