// An open-loop writer: `workers` async workers start operations on a fixed schedule that adds
// up to `ratePerS` in total, worker i at start + (i + k·workers) / ratePerS. Each start time
// is computed from performance.now() at the start, never by chaining sleeps, so timer
// slack does not accumulate into a lower rate; a timer is used only to wait for the next
// start. A worker that falls behind starts its next operation at once (no bursts beyond
// its own backlog) and stops at the end of the phase, and how far behind it fell is
// reported, so a rate the database cannot sustain shows up as `achieved < target` and a
// large `maxBehindMs`, not as a silent stall.

export interface PacedOptions {
  ratePerS: number;
  workers: number;
  durationS: number;
  signal: AbortSignal;
  operation: () => Promise<unknown>;
}

export interface PacedResult {
  operations: number;
  /** Wall time from the first scheduled start to the last completion. */
  seconds: number;
  /** Largest delay of an operation's start past its scheduled time. */
  maxBehindMs: number;
}

export async function runPaced({ ratePerS, workers, durationS, signal, operation }: PacedOptions): Promise<PacedResult> {
  const spacingMs = 1000 / ratePerS;
  const started = performance.now();
  const end = started + durationS * 1000;
  let operations = 0;
  let maxBehindMs = 0;
  const failures: unknown[] = [];
  const worker = async (index: number) => {
    for (let k = 0; failures.length === 0 && !signal.aborted; k++) {
      const at = started + (index + k * workers) * spacingMs;
      if (at >= end) return;
      const wait = at - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      // The phase lasts durationS of wall time: a writer that fell behind does not work
      // through the rest of its schedule afterwards (what it missed lowers the achieved rate).
      if (performance.now() >= end) return;
      maxBehindMs = Math.max(maxBehindMs, performance.now() - at);
      try {
        await operation();
      } catch (error) {
        failures.push(error);
        return;
      }
      operations++;
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  if (failures.length > 0) throw failures[0];
  signal.throwIfAborted();
  return { operations, seconds: (performance.now() - started) / 1000, maxBehindMs };
}
