import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import type { Tx } from '../src/db/transaction.js';
import { appendEvents } from '../src/events/append-events.js';
import type { Consumer } from '../src/events/consumer.js';
import { createConsumerMetrics } from '../src/events/consumer-metrics.js';
import { type ConsumerRunner, createConsumerRunner } from '../src/events/consumer-runner.js';
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

function runnerFor(t: TestApp, consumers: Consumer[]): ConsumerRunner {
  const registry = new Registry();
  const runner: ConsumerRunner = createConsumerRunner({
    database: t.app.database,
    transact: t.app.transact,
    clock: systemClock,
    log: createLogger('silent'),
    consumers,
    metrics: createConsumerMetrics(registry, () => runner.lag()),
    options: { pollIntervalMs: 50, batchSize: 50 },
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
});
