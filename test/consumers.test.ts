import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import type { Tx } from '../src/db/transaction.js';
import { appendEvents } from '../src/events/append-events.js';
import type { Consumer } from '../src/events/consumer.js';
import { createConsumerMetrics } from '../src/events/consumer-metrics.js';
import { type ConsumerRunner, createConsumerRunner, type RunnerOptions } from '../src/events/consumer-runner.js';
import type { StoredEvent } from '../src/events/types.js';
import { createLogger } from '../src/observability/logger.js';
import { describeWithDatabase, startTestApp, type TestApp } from './support/app.js';
import { testDatabaseKind } from './support/databases.js';
import { until } from './support/until.js';

/** A consumer whose effect is a row per handled event (no unique key: doubles would show). */
function recordingConsumer(name: string, options: { partitions?: number } = {}) {
  const order: StoredEvent[] = [];
  const consumer: Consumer = {
    name,
    handles: ['task.created', 'task.updated'],
    ...options,
    async handle(event: StoredEvent, tx: Tx) {
      await sql`INSERT INTO test_effects (consumer, event_id, aggregate_id, version) VALUES (${name}, ${event.eventId}, ${event.aggregateId}, ${event.aggregateVersion})`.execute(
        tx.q,
      );
      order.push(event);
    },
  };
  return { consumer, order };
}

function runnerFor(t: TestApp, consumers: Consumer[], options: RunnerOptions = {}): ConsumerRunner {
  const registry = new Registry();
  const runner: ConsumerRunner = createConsumerRunner({
    database: t.app.database,
    transact: t.app.transact,
    clock: systemClock,
    log: createLogger('silent'),
    consumers,
    metrics: createConsumerMetrics(registry, () => runner.lag()),
    options: { pollIntervalMs: 50, batchSize: 50, ...options },
  });
  return runner;
}

/** Appends `count` events for one aggregate, each in its own transaction held open for a random while. */
async function writer(t: TestApp, aggregateId: string, userId: string, count: number) {
  for (let version = 1; version <= count; version++) {
    await t.app.transact(async (tx) => {
      await appendEvents(tx, { userId, correlationId: null }, new Date(), [
        {
          type: version === 1 ? 'task.created' : 'task.updated',
          aggregateType: 'task',
          aggregateId,
          aggregateVersion: version,
          userId,
          data: { n: version },
        },
      ]);
      // Hold the transaction open after the seq is allocated: later seqs commit first.
      await sql`SELECT pg_sleep(${Math.random() * 0.02})`.execute(tx.q);
    });
  }
}

describeWithDatabase('event consumers', () => {
  let t: TestApp;
  let userId: string;
  beforeAll(async () => {
    t = await startTestApp();
    await sql`CREATE TABLE test_effects (consumer text, event_id uuid, aggregate_id uuid, version int)`.execute(
      t.app.database.db,
    );
    userId = crypto.randomUUID();
  });
  afterAll(() => t.close());

  it.runIf(testDatabaseKind() === 'postgres')(
    'sees every event exactly once, in per-aggregate order, with 16 concurrent writers committing out of seq order',
    async () => {
      const { consumer, order } = recordingConsumer('no-skip');
      const runner = runnerFor(t, [consumer]);
      await runner.start();
      const aggregates: string[] = Array.from({ length: 16 }, () => crypto.randomUUID());
      const perWriter = 40;
      const ours = () => order.filter((e) => aggregates.includes(e.aggregateId));
      try {
        // The consumer runs while the writers write: that is when a naive reader skips.
        await Promise.all(aggregates.map((id) => writer(t, id, userId, perWriter)));
        await until(() => ours().length >= aggregates.length * perWriter, { timeoutMs: 20_000, what: 'all events handled' });
        await until(async () => (await runner.lag())[0]?.events === 0, { timeoutMs: 20_000, what: 'lag 0' });
      } finally {
        await runner.stop();
      }
      const rows = await sql<{ n: number; distinct_events: number }>`
        SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct_events FROM test_effects
        WHERE consumer = 'no-skip' AND aggregate_id IN (${sql.join(aggregates)})`.execute(t.app.database.db);
      expect(rows.rows[0]).toEqual({ n: 16 * perWriter, distinct_events: 16 * perWriter });
      for (const id of aggregates) {
        expect(order.filter((e) => e.aggregateId === id).map((e) => e.aggregateVersion)).toEqual(
          Array.from({ length: perWriter }, (_, i) => i + 1),
        );
      }
    },
  );

  it.runIf(testDatabaseKind() === 'postgres')(
    'two runners sharing a partitioned consumer never handle an event twice and both do work',
    async () => {
      const a = recordingConsumer('partitioned', { partitions: 4 });
      const b = recordingConsumer('partitioned', { partitions: 4 });
      const runners = [runnerFor(t, [a.consumer]), runnerFor(t, [b.consumer])];
      await Promise.all(runners.map((r) => r.start()));
      const aggregates: string[] = Array.from({ length: 12 }, () => crypto.randomUUID());
      const ours = (events: StoredEvent[]) => events.filter((e) => aggregates.includes(e.aggregateId));
      try {
        await Promise.all(aggregates.map((id) => writer(t, id, userId, 25)));
        await until(() => ours(a.order).length + ours(b.order).length >= 12 * 25, {
          timeoutMs: 20_000,
          what: 'all events handled',
        });
        // Everything else in the log (earlier tests' events) is handled too before we count.
        await until(async () => (await runners[0]?.lag())?.[0]?.events === 0, { timeoutMs: 20_000, what: 'lag 0' });
      } finally {
        await Promise.all(runners.map((r) => r.stop()));
      }
      const rows = await sql<{ n: number; distinct_events: number }>`
        SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct_events FROM test_effects
        WHERE consumer = 'partitioned' AND aggregate_id IN (${sql.join(aggregates)})`.execute(t.app.database.db);
      expect(rows.rows[0]).toEqual({ n: 300, distinct_events: 300 });
      expect(ours(a.order).length).toBeGreaterThan(0);
      expect(ours(b.order).length).toBeGreaterThan(0);
      // Each aggregate's events are in order, whichever runner handled them.
      const handled = ours([...a.order, ...b.order]);
      for (const id of aggregates) {
        const byRunner = [a.order, b.order].map((o) => o.filter((e) => e.aggregateId === id).map((e) => e.aggregateVersion));
        for (const versions of byRunner) expect(versions).toEqual([...versions].sort((x, y) => x - y));
        expect(handled.filter((e) => e.aggregateId === id)).toHaveLength(25);
      }
    },
  );

  // Another process is woken by NOTIFY; on PGlite there is no other process (the app's own
  // runner is nudged in-process by the commit hook, covered by every consumer test there).
  it.runIf(testDatabaseKind() === 'postgres')(
    'a consumer in another process wakes on a commit without waiting for its poll',
    async () => {
      const { consumer, order } = recordingConsumer('wake-up');
      const registry = new Registry();
      const runner: ConsumerRunner = createConsumerRunner({
        database: t.app.database,
        transact: t.app.transact,
        clock: systemClock,
        log: createLogger('silent'),
        consumers: [consumer],
        metrics: createConsumerMetrics(registry, () => runner.lag()),
        // An hour: only NOTIFY (or the in-process nudge) can wake it within the deadline.
        options: { pollIntervalMs: 3_600_000 },
      });
      await runner.start();
      try {
        await until(async () => (await runner.lag()).every((l) => l.events === 0), { timeoutMs: 10_000, what: 'catch-up' });
        const before = order.length;
        await writer(t, crypto.randomUUID(), userId, 1);
        // Wake the runner as another process would: through NOTIFY only.
        await until(() => order.length > before, { timeoutMs: 5000, what: 'the event to be handled' });
      } finally {
        await runner.stop();
      }
    },
  );

  it('reports lag per consumer and reaches zero once caught up', async () => {
    const { consumer } = recordingConsumer('lagging');
    const runner = runnerFor(t, [consumer]);
    const aggregate = crypto.randomUUID();
    await writer(t, aggregate, userId, 5);
    await runner.start();
    try {
      await until(async () => (await runner.lag())[0]?.events === 0, { timeoutMs: 10_000, what: 'lag 0' });
      expect((await runner.lag())[0]).toMatchObject({ consumer: 'lagging', events: 0, seconds: 0 });
    } finally {
      await runner.stop();
    }
  });

  it('a set-based consumer gets whole batches; when one throws, the batch re-runs event by event and only the poison event is dead-lettered', async () => {
    const batches: number[] = [];
    const name = 'set-based';
    const aggregates = Array.from({ length: 6 }, () => crypto.randomUUID());
    const poison = aggregates[3];
    const effect = (q: Tx['q'], events: readonly StoredEvent[]) =>
      sql`INSERT INTO test_effects (consumer, event_id, aggregate_id, version)
          VALUES ${sql.join(events.map((e) => sql`(${name}, ${e.eventId}::uuid, ${e.aggregateId}::uuid, ${e.aggregateVersion})`))}`.execute(
        q,
      );
    const consumer: Consumer = {
      name,
      handles: ['task.created'],
      maxAttempts: 2,
      async handle(event, tx) {
        if (event.aggregateId === poison) throw new Error('poison');
        await effect(tx.q, [event]);
      },
      async handleBatch(events, tx) {
        batches.push(events.length);
        await effect(tx.q, events);
        if (events.some((e) => e.aggregateId === poison)) throw new Error('poison in batch');
      },
    };
    for (const id of aggregates) await writer(t, id, userId, 1);
    const runner = runnerFor(t, [consumer], { retryBaseMs: 10 });
    await runner.start();
    try {
      await until(async () => (await runner.lag())[0]?.events === 0, { timeoutMs: 10_000, what: 'lag 0' });
    } finally {
      await runner.stop();
    }
    const rows = await sql<{ aggregate_id: string; n: number }>`
      SELECT aggregate_id, count(*)::int AS n FROM test_effects WHERE consumer = ${name} GROUP BY aggregate_id`.execute(
      t.app.database.db,
    );
    const counts = new Map(rows.rows.map((r) => [r.aggregate_id, r.n]));
    // The failed batch's rows were rolled back; every good event has exactly one row.
    for (const id of aggregates) expect(counts.get(id) ?? 0).toBe(id === poison ? 0 : 1);
    expect(Math.max(...batches)).toBeGreaterThan(1);
    const letters = await sql<{ consumer: string }>`
      SELECT consumer FROM dead_letters d JOIN events e ON e.event_id = d.event_id
      WHERE d.consumer = ${name} AND e.aggregate_id = ${poison}::uuid`.execute(t.app.database.db);
    expect(letters.rows).toHaveLength(1);
  });

  it('time-boxed batches (maxBatchMs 0: one event each) still handle every event once, in order', async () => {
    const { consumer, order } = recordingConsumer('time-boxed');
    const aggregate = crypto.randomUUID();
    await writer(t, aggregate, userId, 12);
    const runner = runnerFor(t, [consumer], { maxBatchMs: 0 });
    await runner.start();
    try {
      await until(async () => (await runner.lag())[0]?.events === 0, { timeoutMs: 10_000, what: 'lag 0' });
    } finally {
      await runner.stop();
    }
    expect(order.filter((e) => e.aggregateId === aggregate).map((e) => e.aggregateVersion)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    const rows = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM test_effects WHERE consumer = 'time-boxed' AND aggregate_id = ${aggregate}::uuid`.execute(
      t.app.database.db,
    );
    expect(rows.rows[0]?.n).toBe(12);
  });

  it('a consumer of types nobody writes moves its checkpoint past other events, and writes it by the first catch-up', async () => {
    const consumer: Consumer = { name: 'rare-types', handles: ['reminder.fired'], handle: async () => {} };
    await writer(t, crypto.randomUUID(), userId, 3);
    const runner = runnerFor(t, [consumer]);
    await runner.start();
    await runner.caughtUp();
    try {
      const head = await sql<{ tx_id: string; seq: string }>`
        SELECT tx_id::text, seq FROM events ORDER BY tx_id DESC, seq DESC LIMIT 1`.execute(t.app.database.db);
      const cp = await sql<{ tx_id: string; seq: string }>`
        SELECT tx_id::text, seq FROM consumer_checkpoints WHERE consumer = 'rare-types'`.execute(t.app.database.db);
      expect(cp.rows[0]).toEqual(head.rows[0]);
      expect((await runner.lag())[0]).toMatchObject({ consumer: 'rare-types', events: 0 });
    } finally {
      await runner.stop();
    }
  });
});
