// Drives every registered consumer over the event log. Each (consumer, partition) is a
// slot with its own loop: it claims the slot with a transaction-scoped advisory lock (so N
// processes never handle the same event concurrently), reads the next batch past the
// checkpoint (read-events.ts), hands each event to the consumer, and advances the checkpoint
// with compare-and-set in the same transaction: database effects are exactly once.
//
// Slots run concurrently (up to `concurrency` open transactions), so a slow consumer never
// delays another one's events: with one loop over all slots, the latency of every consumer
// was the sum of all their batches (bench/events: lag p99 225 ms at 1,000 events/s, mostly
// other consumers' turns).
//
// Batches run without savepoints; when a handler fails, the batch rolls back and re-runs
// with a SAVEPOINT per event so that only the failing event's writes are undone. It is
// retried with exponential backoff and jitter, holding its partition (per-aggregate order
// is kept); after maxAttempts it goes to dead_letters and the partition moves on. Attempt
// counts live in memory: after a crash an event gets a fresh set of attempts, which errs on
// the side of retrying.
//
// Events that are not the slot's (other types or partitions) are skipped in memory and the
// checkpoint is moved past them at most every CHECKPOINT_SKIP_PERSIST_MS: a batch with
// nothing to do then commits a read-only transaction (no xid, no WAL flush) instead of a
// checkpoint write per wake-up and consumer.
//
// Wake-up: NOTIFY (PostgreSQL, other processes), the in-process commit hook (both), and a
// slow poll as the safety net; a notification only nudges the loops.
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Database } from '../db/connect.js';
import type { Transact } from '../db/transaction.js';
import { NotFound } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { EVENTS_CHANNEL } from './append-events.js';
import { advanceCheckpoint, CheckpointMoved, claimCheckpoint, ensureCheckpoints } from './checkpoints.js';
import type { Consumer } from './consumer.js';
import { type ConsumerMetrics, observeConsumerLag } from './consumer-metrics.js';
import { type Failure, recordDeadLetter } from './dead-letters.js';
import { comparePositions, hasEventsHeldBack, type Position, readConsumerBatch, readEventById } from './read-events.js';
import type { StoredEvent } from './types.js';
import { createSemaphore, createWakeSignal, type WakeSignal } from './wake-signal.js';

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
  /** A batch stops taking events after this long and commits what it handled (default 50). */
  maxBatchMs?: number;
  /**
   * Slot transactions open at once. Each holds a pooled connection for its batch, so keep
   * it below the pool size (HTTP requests share the pool). 1 on PGlite (one connection).
   */
  concurrency?: number;
}

export interface RunnerDeps {
  database: Database;
  transact: Transact;
  clock: Clock;
  log: Logger;
  metrics: ConsumerMetrics;
  consumers: readonly Consumer[];
  options?: RunnerOptions;
  /** This app's NOTIFY origin (commit-notifier.ts): its echo is skipped, `nudge` already ran. */
  ownOrigin?: string;
}

interface Slot {
  consumer: Consumer;
  partition: number;
  partitions: number;
  wake: WakeSignal;
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
  /**
   * Events in (from, to] were read and none is this slot's: later reads start at `to` while
   * the checkpoint is at or after `from` and before `to`. Valid whoever moves the checkpoint,
   * since an event's type and aggregate never change and the xmin gate lets no later commit
   * sort inside the range.
   */
  skip: { from: Position; to: Position } | null;
  /** When the checkpoint was last written (skips are persisted lazily). */
  persistedAt: number;
  /** Set while a batch runs: a batch running for minutes makes the runner unhealthy. */
  busySince: number | null;
  idleOnce: boolean;
}

// Re-check interval while events are held behind the xmin horizon.
const HELD_BACK_RECHECK_MS = 25;
// How stale a checkpoint may be when the events past it are all someone else's.
const CHECKPOINT_SKIP_PERSIST_MS = 1000;

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
  const maxBatchMs = deps.options?.maxBatchMs ?? 50;
  const slots: Slot[] = deps.consumers.flatMap((consumer) => {
    const partitions = consumer.partitions ?? 1;
    return Array.from({ length: partitions }, (_, partition) => ({
      consumer,
      partition,
      partitions,
      wake: createWakeSignal(),
      failures: new Map<string, Failure>(),
      retryAt: 0,
      careful: false,
      heldBack: false,
      skip: null,
      persistedAt: Date.now(),
      busySince: null,
      idleOnce: false,
    }));
  });
  const withPermit = createSemaphore(deps.options?.concurrency ?? (database.kind === 'pglite' ? 1 : 4));

  let running = false;
  let crashed = false;
  let loops: Promise<void>[] = [];
  let unlisten: (() => Promise<void>) | null = null;
  let wakeTimer: NodeJS.Timeout | null = null;
  let markIdle: () => void = () => {};
  const firstIdle = new Promise<void>((resolve) => {
    markIdle = resolve;
  });

  let pendingWake: 'all' | Set<string> | null = null;

  function wake(which: 'all' | ReadonlySet<string>): void {
    for (const slot of slots) if (which === 'all' || wantsAny(slot.consumer, which)) slot.wake.nudge();
  }

  /**
   * A commit appended events. A local commit says which types: only the slots that handle
   * one of them wake (the others move past those events at their next poll); NOTIFY from
   * another process says nothing, so every slot wakes.
   */
  function nudge(types?: ReadonlySet<string>): void {
    if (wakeDelayMs === 0) {
      wake(types ?? 'all');
      return;
    }
    if (!types || pendingWake === 'all') pendingWake = 'all';
    else pendingWake = new Set([...(pendingWake ?? []), ...types]);
    wakeTimer ??= setTimeout(() => {
      wakeTimer = null;
      const which = pendingWake ?? 'all';
      pendingWake = null;
      wake(which);
    }, wakeDelayMs);
  }

  /** One batch for one slot. Returns how many events it read (0 = caught up or locked). */
  async function runSlot(slot: Slot): Promise<number> {
    const { consumer, partition } = slot;
    const started = clock.now();
    const t0 = performance.now(); // wall time for the time box (the clock may be a test's)
    const careful = slot.careful || consumer.externalEffects === true;
    try {
      const { read, handled, stalled } = await transact(async (tx) => {
        const handledNow: StoredEvent[] = [];
        const checkpoint = await claimCheckpoint(tx.q, LOCK_NAMESPACE, consumer.name, partition);
        if (!checkpoint) return { read: 0, handled: handledNow, stalled: false };
        const skip = slot.skip;
        const skipping =
          skip !== null && comparePositions(checkpoint, skip.from) >= 0 && comparePositions(checkpoint, skip.to) < 0;
        const from = skipping ? skip.to : checkpoint;
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
        let cut = false;
        const last = batch.events.at(-1);
        if (!careful && consumer.handleBatch && last) {
          try {
            await consumer.handleBatch(batch.events, tx);
          } catch (err) {
            throw new FastPathFailed(last.eventId, { cause: err });
          }
          handledNow.push(...batch.events);
          to = { txId: last.txId, seq: last.seq };
        } else {
          for (const event of batch.events) {
            // Time-boxed: a long batch delays this consumer's next events and, while it holds
            // an xid, every reader's xmin gate (other consumers, real-time tailers).
            if (handledNow.length > 0 && performance.now() - t0 > maxBatchMs) {
              cut = true;
              break;
            }
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
        }
        // Every scanned event was handled or is not this consumer's: move past the scan.
        if (!blocked && !cut && batch.scannedTo) to = batch.scannedTo;
        // A cut batch reads on at once.
        const read = !to ? 0 : cut ? batchSize : Math.max(batch.scanned, batch.events.length);
        if (!to) return { read, handled: handledNow, stalled: blocked };
        if (batch.events.length === 0 && !blocked && Date.now() - slot.persistedAt < CHECKPOINT_SKIP_PERSIST_MS) {
          // Nothing of ours: remember the skip, write the checkpoint later (read-only commit).
          slot.skip = { from: skipping ? skip.from : checkpoint, to };
          return { read, handled: handledNow, stalled: false };
        }
        await advanceCheckpoint(tx.q, consumer.name, partition, checkpoint, to, clock.now());
        slot.skip = null;
        slot.persistedAt = Date.now();
        return { read, handled: handledNow, stalled: blocked };
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
      // The transaction rolled back: whatever it set in memory about the checkpoint is void.
      slot.skip = null;
      if (err instanceof FastPathFailed) {
        // Re-run at once, isolating each event in a savepoint.
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

  async function runSlotLoop(slot: Slot): Promise<void> {
    while (running) {
      if (slot.retryAt > Date.now()) {
        await slot.wake.sleep(slot.retryAt - Date.now());
        continue;
      }
      // Cleared before the read: a commit announced during the batch triggers another one.
      slot.wake.clear();
      slot.busySince = Date.now();
      const read = await withPermit(() => (running ? runSlot(slot) : Promise.resolve(0)));
      slot.busySince = null;
      if (read >= batchSize || !running) continue;
      if (!slot.idleOnce) {
        await withPermit(() => persistSkip(slot));
        slot.idleOnce = true;
        if (slots.every((s) => s.idleOnce)) markIdle();
      }
      const retryIn = slot.retryAt > Date.now() ? slot.retryAt - Date.now() : Number.POSITIVE_INFINITY;
      // An unpersisted skip is written at the next turn after CHECKPOINT_SKIP_PERSIST_MS.
      const interval = slot.heldBack ? Math.min(pollIntervalMs, HELD_BACK_RECHECK_MS) : pollIntervalMs;
      await slot.wake.sleep(Math.max(1, Math.min(interval, retryIn)));
    }
  }

  /**
   * Writes a skipped-over checkpoint now: at the first catch-up (retention and lag readers
   * then see it) and on shutdown (a restart does not re-read the range).
   */
  async function persistSkip(slot: Slot): Promise<void> {
    const skip = slot.skip;
    if (!skip) return;
    try {
      await transact(async (tx) => {
        const checkpoint = await claimCheckpoint(tx.q, LOCK_NAMESPACE, slot.consumer.name, slot.partition);
        if (!checkpoint || comparePositions(checkpoint, skip.from) < 0 || comparePositions(checkpoint, skip.to) >= 0) return;
        await advanceCheckpoint(tx.q, slot.consumer.name, slot.partition, checkpoint, skip.to, clock.now());
      });
      slot.persistedAt = Date.now();
    } catch (err) {
      if (!(err instanceof CheckpointMoved)) log.warn({ err, consumer: slot.consumer.name }, 'could not persist checkpoint');
    }
    if (slot.skip === skip) slot.skip = null;
  }

  return {
    consumers: deps.consumers,

    async start(): Promise<void> {
      if (running) return;
      for (const c of deps.consumers) await ensureCheckpoints(database.db, c.name, c.partitions ?? 1);
      running = true;
      unlisten = await database.listen(EVENTS_CHANNEL, (origin) => {
        if (origin !== deps.ownOrigin) nudge();
      });
      if (slots.length === 0) markIdle();
      loops = slots.map((slot) =>
        runSlotLoop(slot).catch((err) => {
          crashed = true;
          log.fatal({ err, consumer: slot.consumer.name }, 'consumer loop crashed');
        }),
      );
      log.info({ consumers: deps.consumers.map((c) => c.name) }, 'consumers started');
    },

    /** Stops after the batches in progress commit (their checkpoints included). */
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      if (wakeTimer) clearTimeout(wakeTimer);
      wake('all');
      await Promise.all(loops);
      loops = [];
      for (const slot of slots) await persistSkip(slot);
      await unlisten?.();
      unlisten = null;
    },

    /** Wake the loops now (called after every local commit that appended events). */
    nudge,

    /** Resolves once every slot has been read to its end for the first time since start. */
    caughtUp: (): Promise<void> => firstIdle,

    /** Unhealthy when a loop died or one batch has run for more than a few poll intervals. */
    isHealthy: (): boolean => {
      if (!running) return true;
      const limit = Math.max(30_000, pollIntervalMs * 5);
      return !crashed && slots.every((s) => s.busySince === null || Date.now() - s.busySince < limit);
    },

    /** Lag of each consumer, for metrics and tests: its events not yet handled, oldest age. */
    lag: () => observeConsumerLag(database.db, deps.consumers, clock.now()),

    /** Re-runs the handler for one dead letter; resolves it on success. */
    async retryDeadLetter(id: string): Promise<{ ok: true } | { ok: false; error: string }> {
      return retryDeadLetterWith(deps, id);
    },
  };
}

function wantsAny(consumer: Consumer, types: ReadonlySet<string>): boolean {
  if (consumer.handles === 'all') return true;
  for (const type of consumer.handles) if (types.has(type)) return true;
  return false;
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
