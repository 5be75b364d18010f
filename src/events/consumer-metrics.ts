// Consumer metrics: handled events, dead letters, handling delay (commit → handled), batch
// time, and lag per consumer measured from the database at scrape time.

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DB } from '../db/tables.js';
import type { Consumer } from './consumer.js';
import { partitionFilter } from './read-events.js';

export interface ConsumerMetrics {
  handled: Counter<'consumer'>;
  deadLetters: Counter<'consumer'>;
  handleDelay: Histogram<'consumer'>;
  batchDuration: Histogram<'consumer'>;
}

export interface ConsumerLag {
  consumer: string;
  /** Events past the checkpoints, summed over partitions (each counted up to LAG_COUNT_CAP). */
  events: number;
  /** Age of the oldest event not yet handled, 0 when caught up. */
  seconds: number;
}

const LAG_COUNT_CAP = 100_000;

export function createConsumerMetrics(registry: Registry, lag: () => Promise<ConsumerLag[]>): ConsumerMetrics {
  const handled = new Counter({
    name: 'taskflow_consumer_events_handled_total',
    help: 'Events handled by each consumer',
    labelNames: ['consumer'] as const,
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'taskflow_dead_letters_total',
    help: 'Events a consumer gave up on after maxAttempts (see GET /api/v1/admin/dead-letters)',
    labelNames: ['consumer'] as const,
    registers: [registry],
  });
  const handleDelay = new Histogram({
    name: 'taskflow_consumer_handle_delay_seconds',
    help: 'Time from an event being written to a consumer handling it',
    labelNames: ['consumer'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const batchDuration = new Histogram({
    name: 'taskflow_consumer_batch_duration_seconds',
    help: 'Duration of one consumer batch transaction',
    labelNames: ['consumer'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [registry],
  });
  let lastLag: Promise<ConsumerLag[]> | null = null;
  // Both lag gauges share one measurement per scrape.
  const measure = () => {
    lastLag ??= lag().finally(() => setTimeout(() => (lastLag = null), 500).unref());
    return lastLag;
  };
  new Gauge({
    name: 'taskflow_consumer_lag_events',
    help: 'Events written but not yet handled, per consumer',
    labelNames: ['consumer'] as const,
    registers: [registry],
    async collect() {
      for (const l of await measure()) this.set({ consumer: l.consumer }, l.events);
    },
  });
  new Gauge({
    name: 'taskflow_consumer_lag_seconds',
    help: 'Age of the oldest event not yet handled, per consumer',
    labelNames: ['consumer'] as const,
    registers: [registry],
    async collect() {
      for (const l of await measure()) this.set({ consumer: l.consumer }, l.seconds);
    },
  });
  return { handled, deadLetters, handleDelay, batchDuration };
}

export async function observeConsumerLag(db: Kysely<DB>, consumers: readonly Consumer[], now: Date): Promise<ConsumerLag[]> {
  const out: ConsumerLag[] = [];
  for (const consumer of consumers) {
    const partitions = consumer.partitions ?? 1;
    // Only the consumer's own types: the runner moves its checkpoint past other events lazily.
    const types = consumer.handles === 'all' ? sql`` : sql`AND e.type = ANY(${[...consumer.handles]}::text[])`;
    let events = 0;
    let oldest: number | null = null;
    for (let index = 0; index < partitions; index++) {
      // Index range scan from the checkpoint, capped: cheap when caught up, bounded when not.
      const result = await sql<{ events: number; oldest: Date | null }>`
        WITH pending AS (
          SELECT e.occurred_at FROM events e
          WHERE (e.tx_id, e.seq) > (SELECT tx_id, seq FROM consumer_checkpoints
                                    WHERE consumer = ${consumer.name} AND partition = ${index})
            ${partitionFilter({ index, count: partitions })}
            ${types}
          ORDER BY e.tx_id, e.seq
          LIMIT ${LAG_COUNT_CAP}
        )
        SELECT count(*)::int AS events, min(occurred_at) AS oldest FROM pending`.execute(db);
      const row = result.rows[0];
      events += row?.events ?? 0;
      if (row?.oldest) oldest = Math.min(oldest ?? Number.POSITIVE_INFINITY, new Date(row.oldest).getTime());
    }
    out.push({ consumer: consumer.name, events, seconds: oldest === null ? 0 : Math.max(0, (now.getTime() - oldest) / 1000) });
  }
  return out;
}
