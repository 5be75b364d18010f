// A sleep that a nudge cuts short. A nudge that arrives while nobody sleeps is remembered,
// so the next sleep returns at once: a loop never misses "there is new work" that was
// announced while it was busy. Used by every loop that waits for events or due times.

export interface WakeSignal {
  /** Wake the sleeper now, or make the next sleep return at once. */
  nudge(): void;
  /** Forget a pending nudge (call before reading, so a nudge during the read counts). */
  clear(): boolean;
  /** Sleeps up to `ms`; resolves early on a nudge (or at once if one is pending). */
  sleep(ms: number): Promise<void>;
}

export function createWakeSignal(): WakeSignal {
  let pending = false;
  let wake: (() => void) | null = null;
  return {
    nudge() {
      pending = true;
      wake?.();
    },
    clear() {
      const was = pending;
      pending = false;
      return was;
    },
    sleep(ms) {
      if (pending) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(done, Math.max(0, ms));
        function done() {
          clearTimeout(timer);
          wake = null;
          resolve();
        }
        wake = done;
      });
    },
  };
}

/** At most `limit` holders at once, served first come first served. */
export function createSemaphore(limit: number) {
  let free = Math.max(1, limit);
  const waiting: (() => void)[] = [];
  return async function withPermit<T>(work: () => Promise<T>): Promise<T> {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
