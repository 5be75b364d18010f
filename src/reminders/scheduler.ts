// The reminder scheduler (DESIGN §3). No polling: ONE timer armed for the earliest pending
// remind_at, re-armed when reminders change (NOTIFY on REMINDERS_CHANNEL from any process,
// `wake()` after a local commit) and after every firing. Firing claims due reminders with
// one UPDATE … FOR UPDATE SKIP LOCKED and appends their `reminder.fired` events in the same
// transaction, so any number of processes can run it and each reminder fires exactly once;
// a crash before COMMIT leaves the reminders pending for the next process (nothing lost).
//
// Time comes from the injected clock and is passed to SQL as a parameter (never now()),
// so tests drive firing with a ManualClock and `wake()`.
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Database } from '../db/connect.js';
import type { Transact } from '../db/transaction.js';
import { appendEvents } from '../events/append-events.js';
import type { Logger } from '../observability/logger.js';

export const REMINDERS_CHANNEL = 'taskflow_reminders';

/** SQL that tells every scheduler to re-arm at COMMIT (dropped on ROLLBACK). */
export const notifyReminders = sql`SELECT pg_notify(${REMINDERS_CHANNEL}, '')`;

export interface SchedulerDeps {
  database: Database;
  transact: Transact;
  clock: Clock;
  log: Logger;
  registry: Registry;
  /** Reminders claimed per transaction (default 500). */
  batchSize?: number;
  /** Longest the timer sleeps without a notification (default 5 min): a safety net, not a poll. */
  maxSleepMs?: number;
}

interface FiredRow {
  id: string;
  task_id: string;
  user_id: string;
  remind_at: Date;
  version: number;
  channel: string;
  title: string;
}

export type ReminderScheduler = ReturnType<typeof createReminderScheduler>;

export function createReminderScheduler(deps: SchedulerDeps) {
  const { database, transact, clock, log } = deps;
  const batchSize = deps.batchSize ?? 500;
  const maxSleepMs = deps.maxSleepMs ?? 300_000;
  const metrics = schedulerMetrics(deps.registry, database);

  let running = false;
  let loop: Promise<void> | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  let woken = false;
  let wakeUp: (() => void) | null = null;
  const firedListeners = new Set<(fired: ReadonlyArray<{ id: string; remind_at: Date }>) => void>();

  function wake(): void {
    woken = true;
    wakeUp?.();
  }

  function sleep(ms: number): Promise<void> {
    if (woken || !running) return Promise.resolve();
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

  /** Fires one batch of due reminders; returns how many fired. */
  async function fireBatch(): Promise<number> {
    const now = clock.now();
    const fired = await transact(async (tx) => {
      // Claims and marks up to `batchSize` due reminders in ONE statement.
      //
      // - The inner SELECT walks reminders_pending_idx (partial, status = 'pending') in
      //   remind_at order: due rows only, oldest first, so a backlog drains fairly.
      // - `FOR UPDATE OF r SKIP LOCKED`: rows another scheduler has claimed in its open
      //   transaction are skipped, not waited for; that process fires them (or, if it
      //   dies, its transaction rolls back and they are pending again). Under READ
      //   COMMITTED a row that another scheduler marked 'sent' and committed after our
      //   snapshot is re-checked against `status = 'pending'` and dropped: never twice.
      // - The task must be open. `FOR SHARE OF t SKIP LOCKED` closes the race with a
      //   completion: a task being completed/deleted right now holds its row lock, so its
      //   reminders are skipped this round (and then cancelled by the planner); a
      //   completion that starts after us waits for our COMMIT. Either the reminder fired
      //   before the task was completed, or it never fires.
      // - `$now` is the injected clock, not now(): tests drive time.
      // - The UPDATE returns what the reminder.fired events carry (task title included),
      //   and the events are inserted in this same transaction below.
      const result = await sql<FiredRow>`
        WITH due AS (
          SELECT r.id, t.title
          FROM reminders r
          JOIN tasks t ON t.id = r.task_id
          WHERE r.status = 'pending'
            AND r.remind_at <= ${now}
            AND t.status = 'open'
          ORDER BY r.remind_at
          LIMIT ${batchSize}
          FOR UPDATE OF r SKIP LOCKED
          FOR SHARE OF t SKIP LOCKED
        )
        UPDATE reminders r
        SET status = 'sent', sent_at = ${now}, attempts = r.attempts + 1, version = r.version + 1, updated_at = ${now}
        FROM due
        WHERE r.id = due.id
        RETURNING r.id, r.task_id, r.user_id, r.remind_at, r.version, r.channel, due.title`.execute(tx.q);
      const rows = result.rows;
      if (rows.length === 0) return rows;
      await appendEvents(
        tx,
        { userId: rows[0]?.user_id ?? '', correlationId: null },
        now,
        rows.map((r) => ({
          type: 'reminder.fired' as const,
          aggregateType: 'reminder' as const,
          aggregateId: r.id,
          aggregateVersion: r.version,
          userId: r.user_id,
          data: {
            reminder_id: r.id,
            task_id: r.task_id,
            task_title: r.title,
            channel: r.channel,
            remind_at: new Date(r.remind_at).toISOString(),
            fired_at: now.toISOString(),
          },
        })),
      );
      return rows;
    });
    // Observed after COMMIT: only reminders that really fired count.
    const firedAt = clock.now().getTime();
    for (const r of fired) metrics.fireDelay.observe(Math.max(0, firedAt - new Date(r.remind_at).getTime()) / 1000);
    if (fired.length > 0) {
      metrics.fired.inc(fired.length);
      for (const listener of firedListeners) listener(fired);
    }
    return fired.length;
  }

  /** The earliest pending remind_at of an open task (the timer's target), or null. */
  async function nextDue(): Promise<Date | null> {
    // Same index, first row only. Reminders of tasks that are not open are left to the
    // planner (it cancels them); they must not keep the timer spinning.
    const row = await sql<{ remind_at: Date }>`
      SELECT r.remind_at
      FROM reminders r
      JOIN tasks t ON t.id = r.task_id AND t.status = 'open'
      WHERE r.status = 'pending'
      ORDER BY r.remind_at
      LIMIT 1`.execute(database.db);
    const at = row.rows[0]?.remind_at;
    return at ? new Date(at) : null;
  }

  async function runLoop(): Promise<void> {
    while (running) {
      woken = false;
      try {
        // Overdue first (also on start): drain in batches until nothing due is left.
        const fired = await fireBatch();
        if (fired >= batchSize) continue;
        const next = await nextDue();
        const now = clock.now().getTime();
        let delay = next ? next.getTime() - now : maxSleepMs;
        // Due but not claimable (locked by another scheduler or a completing task): look again shortly.
        if (next && delay <= 0) delay = fired > 0 ? 0 : 50;
        if (delay === 0) continue;
        await sleep(Math.min(delay, maxSleepMs));
      } catch (err) {
        log.error({ err }, 'reminder scheduler failed; retrying');
        await sleep(1000);
      }
    }
  }

  return {
    async start(): Promise<void> {
      if (running) return;
      running = true;
      unlisten = await database.listen(REMINDERS_CHANNEL, wake);
      loop = runLoop();
      log.info('reminder scheduler started');
    },
    /** Stops after the firing in progress commits. */
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      wake();
      await loop;
      await unlisten?.();
      unlisten = null;
    },
    /** Re-arm now: reminders changed in this process, or the (test) clock moved. */
    wake,
    /** One firing pass, for tests and tools; returns how many fired. */
    fireBatch,
    /** Calls `listener` after each COMMIT that fired reminders here (benchmarks, tests); returns the unsubscribe. */
    onFired(listener: (fired: ReadonlyArray<{ id: string; remind_at: Date }>) => void): () => void {
      firedListeners.add(listener);
      return () => firedListeners.delete(listener);
    },
  };
}

function schedulerMetrics(registry: Registry, database: Database) {
  const fireDelay = new Histogram({
    name: 'taskflow_reminder_fire_delay_seconds',
    help: 'Reminder fire delay: fired time minus scheduled remind_at',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const fired = new Counter({
    name: 'taskflow_reminders_fired_total',
    help: 'Reminders fired by this process',
    registers: [registry],
  });
  const pending = new Gauge({
    name: 'taskflow_reminders_pending',
    help: 'Reminders waiting to fire (all processes)',
    registers: [registry],
    async collect() {
      const row = await database.db
        .selectFrom('reminders')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'pending')
        .executeTakeFirst();
      this.set(Number(row?.n ?? 0));
    },
  });
  return { fireDelay, fired, pending };
}
