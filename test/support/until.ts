// Waiting with a deadline instead of sleeping: poll a probe until it returns something
// truthy, and fail with a readable message (and the probe's last error) when time runs out.
import { setTimeout as delay } from 'node:timers/promises';

export interface UntilOptions {
  /** Give up after this many milliseconds (default 2000). */
  timeoutMs?: number;
  /** Pause between probes (default 10 ms): a polling interval, not a guess at timing. */
  intervalMs?: number;
  /** What we are waiting for, for the timeout message. */
  what?: string;
}

/** Resolves to the probe's first truthy result; rejects once the deadline passes. */
export async function until<T>(probe: () => T | Promise<T>, options: UntilOptions = {}): Promise<NonNullable<T>> {
  const { timeoutMs = 2000, intervalMs = 10, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError ? ` (last error: ${(lastError as Error).message ?? String(lastError)})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await delay(intervalMs);
  }
}

/** Resolves to the promise's value, or rejects when it has not settled within `timeoutMs`. */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
