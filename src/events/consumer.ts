// What a consumer is: a named handler of some event types. Consumers are listed in one
// place (consumers.ts) and driven by the runner (consumer-runner.ts), which gives each
// event to `handle` inside the transaction that also advances the consumer's checkpoint.
import type { Tx } from '../db/transaction.js';
import type { EventType, StoredEvent } from './types.js';

export interface Consumer {
  /** Stable name: the checkpoint and dead letters are keyed by it. Never rename. */
  readonly name: string;
  /** Event types to handle; others advance the checkpoint untouched. */
  readonly handles: readonly EventType[] | 'all';
  /**
   * Events are split by aggregate id into this many partitions, each with its own
   * checkpoint and lock, so instances can work in parallel while each aggregate's events
   * stay in order. Default 1. Changing it later restarts the new partitions from the
   * lowest existing checkpoint (see ensureCheckpoints).
   */
  readonly partitions?: number;
  /** Attempts before the event goes to dead_letters and the consumer moves on. Default 5. */
  readonly maxAttempts?: number;
  /**
   * True when `handle` does something outside the database (HTTP call, broker publish,
   * in-memory fan-out). Batches normally run without savepoints and re-run after a failure,
   * which would repeat such effects for the events before the failing one; with this flag
   * each event runs in its own SAVEPOINT, so a failure repeats nothing that succeeded.
   */
  readonly externalEffects?: boolean;
  /**
   * Handles one event. Database effects written through `tx` commit atomically with the
   * checkpoint (exactly once). External effects are at-least-once: dedupe by event id
   * (see processed-events.ts).
   */
  handle(event: StoredEvent, tx: Tx): Promise<void>;
  /**
   * Optional set-based form of `handle` for the fast path: all of a batch's events (in log
   * order, at most the runner's batch size) in one call, e.g. one multi-row INSERT instead
   * of one round trip per event. Same transaction and guarantees. If it throws, the runner
   * rolls the batch back and re-runs it event by event through `handle`, so the two must
   * have the same effect.
   */
  handleBatch?(events: readonly StoredEvent[], tx: Tx): Promise<void>;
}

export const consumerHandles = (consumer: Consumer, type: EventType): boolean =>
  consumer.handles === 'all' || consumer.handles.includes(type);
