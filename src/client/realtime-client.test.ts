import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { reconnectDelay } from './realtime-client.js';

describe('reconnectDelay', () => {
  it('grows exponentially with jitter in [½, 1] of the step, and never exceeds the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, r) => {
          const delay = reconnectDelay(attempt, 500, 30_000, () => r);
          const step = Math.min(30_000, 500 * 2 ** Math.min(attempt, 30));
          expect(delay).toBeGreaterThanOrEqual(Math.floor(step / 2));
          expect(delay).toBeLessThanOrEqual(step);
        },
      ),
    );
    expect([0, 1, 2, 3].map((n) => reconnectDelay(n, 500, 30_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(reconnectDelay(50, 500, 30_000, () => 1)).toBe(30_000);
  });
});
