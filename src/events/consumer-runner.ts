// Drives every registered consumer over the event log. For each (consumer, partition) it
// repeatedly claims the partition with a transaction-scoped advisory lock (so N processes
// never handle the same event concurrently), reads the next batch past the checkpoint
// (read-events.ts), hands each event to the consumer inside a SAVEPOINT, and advances the
// checkpoint with compare-and-set in the same transaction: database effects are exactly once.
//
// Batches run without savepoints; when a handler fails, the batch rolls back and re-runs
// with a SAVEPOINT per event so that only the failing event's writes are undone. It is
// retried with exponential backoff and jitter, holding its partition (per-aggregate order
// is kept); after maxAttempts it goes to dead_letters and the partition moves on. Attempt counts live in memory: after a crash an event gets a fresh
// set of attempts, which errs on the side of retrying.
//
// Wake-up: NOTIFY (PostgreSQL, other processes), the in-process commit hook (both), and a
// slow poll as the safety net; a notification only nudges the loop.
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/connect.js';
import type { Transact } from '../db/transaction.js';
import { NotFound } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { EVENTS_CHANNEL } from './append-events.js';
import { advanceCheckpoint, CheckpointMoved, ensureCheckpoints, readCheckpoint } from './checkpoints.js';
import type { Consumer } from './consumer.js';
import { type ConsumerMetrics, observeConsumerLag } from './consumer-metrics.js';
import { type Failure, recordDeadLetter } from './dead-letters.js';
import { hasEventsHeldBack, type Position, readConsumerBatch, readEventById } from './read-events.js';
import type { StoredEvent } from './types.js';

export interface RunnerOptions {
  batchSize?: number;
  /** Safety-net poll when no notification arrives. */
  pollIntervalMs?: number;
  /** First retry delay; doubles per attempt, with ±50% jitter, capped at 30 s. */
  retryBaseMs?: number;
  /**
   * After a nudge, wait this long before reading, so that a burst of commits is read as one
   * batch. 0 on PostgreSQL (latency); a few ms on PGlite, whose single connection is
   * otherwise taken by one tiny batch per commit and starves the writers (bench/events).
   */
  wakeDelayMs?: number;
}

export interface RunnerDeps {
  database: Database;
  transact: Transact;
  clock: Clock;
  log: Logger;
  metrics: ConsumerMetrics;
  consumers: readonly Consumer[];
  options?: RunnerOptions;
}

interface Slot {
  consumer: Consumer;
  partition: number;
  partitions: number;
  /** Failures of the event currently blocking this slot, by event id. */
  failures: Map<string, Failure>;
  retryAt: number;
  /**
   * Batches run without savepoints (one round trip each way per event saved: 58-80% of the
   * runner's per-event time in bench/events). When a handler fails, the whole batch rolls
   * back and the slot re-runs in careful mode, one SAVEPOINT per event, until the failing
   * event is handled or dead-lettered.
   */
  careful: boolean;
  /** The last read found committed events behind the xmin horizon: look again soon. */
  heldBack: boolean;
}

// Re-check interval while events are held behind the xmin horizon.
const HELD_BACK_RECHECK_MS = 25;

class FastPathFailed extends Error {}

// Namespace of the advisory locks that claim a (consumer, partition).
const LOCK_NAMESPACE = 7_346_002;

export type ConsumerRunner = ReturnType<typeof createConsumerRunner>;

export function createConsumerRunner(deps: RunnerDeps) {
  const { database, transact, clock, log, metrics } = deps;
  const batchSize = deps.options?.batchSize ?? 200;
  const pollIntervalMs = deps.options?.pollIntervalMs ?? 1000;
  const retryBaseMs = deps.options?.retryBaseMs ?? 200;
  const wakeDelayMs = deps.options?.wakeDelayMs ?? 0;
  const slots: Slot[] = deps.consumers.flatMap((consumer) => {
    const partitions = consumer.partitions ?? 1;
    return Array.from({ length: partitions }, (_, partition) => ({
      consumer,
      partition,
      partitions,
      failures: new Map<string, Failure>(),
      retryAt: 0,
      careful: false,
      heldBack: false,
    }));
  });

  let running = false;
  let loop: Promise<void> | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let nudged = false;
  let wakeUp: (() => void) | null = null;
  let lastLoopAt = 0;
  let wakeTimer: NodeJS.Timeout | null = null;
  let markIdle: () => void = () => {};
  const firstIdle = new Promise<void>((resolve) => {
    markIdle = resolve;
  });

  function nudge(): void {
    if (wakeDelayMs === 0) {
      nudged = true;
      wakeUp?.();
      return;
    }
    wakeTimer ??= setTimeout(() => {
      wakeTimer = null;
      nudged = true;
      wakeUp?.();
    }, wakeDelayMs);
  }

  function sleep(ms: number): Promise<void> {
    if (nudged) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });
  }

  /** One batch for one slot. Returns how many events it read (0 = caught up or locked). */
  async function runSlot(slot: Slot): Promise<number> {
    const { consumer, partition } = slot;
    const started = clock.now();
    const careful = slot.careful || consumer.externalEffects === true;
    try {
      const { read, handled, stalled } = await transact(async (tx) => {
        const handledNow: StoredEvent[] = [];
        const claimed = await sql<{ ok: boolean }>`
          SELECT pg_try_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${`${consumer.name}:${partition}`})) AS ok`.execute(tx.q);
        if (!claimed.rows[0]?.ok) return { read: 0, handled: handledNow, stalled: false };
        const from = await readCheckpoint(tx.q, consumer.name, partition);
        const range = { index: partition, count: slot.partitions };
        const batch = await readConsumerBatch(tx.q, {
          after: from,
          limit: batchSize,
          scanLimit: batchSize * 10,
          partition: range,
          types: consumer.handles,
        });
        slot.heldBack = batch.scanned === 0 && (await hasEventsHeldBack(tx.q, from, range));
        let to: Position | null = null;
        let blocked = false;
        for (const event of batch.events) {
          if (careful) {
            const outcome = await handleCarefully(slot, event, tx);
            if (outcome === 'retry-later') {
              blocked = true;
              break;
            }
            if (outcome === 'handled') handledNow.push(event);
          } else {
            try {
              await consumer.handle(event, tx);
            } catch (err) {
              throw new FastPathFailed(event.eventId, { cause: err });
            }
            handledNow.push(event);
          }
          to = { txId: event.txId, seq: event.seq };
        }
        // Every scanned event was handled or is not this consumer's: move past the scan.
        if (!blocked && batch.scannedTo) to = batch.scannedTo;
        if (to) await advanceCheckpoint(tx.q, consumer.name, partition, from, to, clock.now());
        return { read: to ? Math.max(batch.scanned, batch.events.length) : 0, handled: handledNow, stalled: blocked };
      });
      // Counted after COMMIT: a rolled-back batch handled nothing.
      const now = clock.now().getTime();
      for (const event of handled) {
        metrics.handled.inc({ consumer: consumer.name });
        metrics.handleDelay.observe({ consumer: consumer.name }, Math.max(0, now - event.occurredAt.getTime()) / 1000);
      }
      metrics.batchDuration.observe({ consumer: consumer.name }, (now - started.getTime()) / 1000);
      if (careful && !stalled) slot.careful = false;
      return read;
    } catch (err) {
      if (err instanceof FastPathFailed) {
        // Roll back happened; re-run at once, isolating each event in a savepoint.
        slot.careful = true;
        return batchSize;
      }
      if (err instanceof CheckpointMoved) return 0;
      log.error({ err, consumer: consumer.name, partition }, 'consumer batch failed');
      slot.retryAt = Date.now() + retryBaseMs;
      return 0;
    }
  }

  async function handleCarefully(slot: Slot, event: StoredEvent, tx: Parameters<Consumer['handle']>[1]) {
    const { consumer } = slot;
    await sql`SAVEPOINT consumer_event`.execute(tx.q);
    try {
      await consumer.handle(event, tx);
      await sql`RELEASE SAVEPOINT consumer_event`.execute(tx.q);
      slot.failures.delete(event.eventId);
      return 'handled' as const;
    } catch (err) {
      await sql`ROLLBACK TO SAVEPOINT consumer_event`.execute(tx.q);
      const now = clock.now();
      const previous = slot.failures.get(event.eventId);
      const failure: Failure = {
        attempts: (previous?.attempts ?? 0) + 1,
        firstFailedAt: previous?.firstFailedAt ?? now,
        lastFailedAt: now,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      };
      const maxAttempts = consumer.maxAttempts ?? 5;
      if (failure.attempts < maxAttempts) {
        slot.failures.set(event.eventId, failure);
        const delay = Math.min(30_000, retryBaseMs * 2 ** (failure.attempts - 1)) * (0.5 + Math.random());
        slot.retryAt = Date.now() + delay;
        log.warn(
          { err, consumer: consumer.name, event_id: event.eventId, attempts: failure.attempts },
          'consumer handler failed; will retry',
        );
        return 'retry-later' as const;
      }
      slot.failures.delete(event.eventId);
      await recordDeadLetter(tx, consumer.name, event, failure);
      metrics.deadLetters.inc({ consumer: consumer.name });
      log.error({ err, consumer: consumer.name, event_id: event.eventId, attempts: failure.attempts }, 'event dead-lettered');
      return 'dead-lettered' as const;
    }
  }

  async function runLoop(): Promise<void> {
    while (running) {
      nudged = false;
      lastLoopAt = Date.now();
      let busy = false;
      for (const slot of slots) {
        if (!running) break;
        if (slot.retryAt > Date.now()) continue;
        const read = await runSlot(slot);
        if (read >= batchSize) busy = true;
      }
      if (busy || !running) continue;
      markIdle();
      const nextRetry = Math.min(...slots.map((s) => (s.retryAt > Date.now() ? s.retryAt : Number.POSITIVE_INFINITY)));
      const interval = slots.some((s) => s.heldBack) ? Math.min(pollIntervalMs, HELD_BACK_RECHECK_MS) : pollIntervalMs;
      await sleep(Math.max(1, Math.min(interval, nextRetry - Date.now())));
    }
  }

  return {
    consumers: deps.consumers,

    async start(): Promise<void> {
      if (running) return;
      for (const c of deps.consumers) await ensureCheckpoints(database.db, c.name, c.partitions ?? 1);
      running = true;
      lastLoopAt = Date.now();
      unlisten = await database.listen(EVENTS_CHANNEL, nudge);
      loop = runLoop().catch((err) => log.fatal({ err }, 'consumer loop crashed'));
      log.info({ consumers: deps.consumers.map((c) => c.name) }, 'consumers started');
    },

    /** Stops after the batch in progress commits (its checkpoint included). */
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      if (wakeTimer) clearTimeout(wakeTimer);
      wakeUp?.();
      await loop;
      await unlisten?.();
      unlisten = null;
    },

    /** Wake the loop now (called after every local commit that appended events). */
    nudge,

    /** Resolves once every slot has been read to its end for the first time since start. */
    caughtUp: (): Promise<void> => firstIdle,

    /** Healthy when the loop has turned within a few poll intervals. */
    isHealthy: (): boolean => !running || Date.now() - lastLoopAt < Math.max(30_000, pollIntervalMs * 5),

    /** Lag of each consumer, for metrics and tests: events not yet handled, oldest age. */
    lag: () => observeConsumerLag(database.db, deps.consumers, clock.now()),

    /** Re-runs the handler for one dead letter; resolves it on success. */
    async retryDeadLetter(id: string): Promise<{ ok: true } | { ok: false; error: string }> {
      return retryDeadLetterWith(deps, id);
    },
  };
}

async function retryDeadLetterWith(deps: RunnerDeps, id: string): Promise<{ ok: true } | { ok: false; error: string }> {
  const { transact, clock } = deps;
  const letter = await deps.database.db.selectFrom('dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
  if (!letter) throw new NotFound(`Dead letter ${id} not found`);
  const consumer = deps.consumers.find((c) => c.name === letter.consumer);
  if (!consumer) return { ok: false, error: `consumer ${letter.consumer} is not registered in this process` };
  try {
    await transact(async (tx) => {
      const event = await readEventById(tx.q, letter.event_id);
      if (!event) throw new Error('the event is no longer in the event log (archived)');
      await consumer.handle(event, tx);
      await tx.q.updateTable('dead_letters').set({ status: 'resolved', resolved_at: clock.now() }).where('id', '=', id).execute();
    });
    return { ok: true };
  } catch (err) {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    await deps.database.db
      .updateTable('dead_letters')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), last_failed_at: clock.now(), error: message }))
      .where('id', '=', id)
      .execute();
    return { ok: false, error: message };
  }
}
