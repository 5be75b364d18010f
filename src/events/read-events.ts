// Reads a consumer's next batch of events: those after its checkpoint in (tx_id, seq)
// order, and only from transactions older than every transaction still running.
//
// Why the xmin gate: `seq` is allocated at INSERT but becomes visible at COMMIT, so with
// concurrent writers seq 11 can commit before seq 10. A reader that remembers "last seq"
// and asks for `seq > 10`... would skip 10 forever once it had seen 11. Ordering by the
// writing transaction's id and reading only below pg_snapshot_xmin (the oldest xid still
// in progress) means every event we can see sorts before any event we cannot see yet, so
// the checkpoint never jumps over a late commit. (The same technique as Emmett and Marten.)
// Cost: one long-running writing transaction anywhere in the cluster holds every consumer
// back — keep transactions short and watch taskflow_consumer_lag_seconds.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/tables.js';
import type { Tx } from '../db/transaction.js';
import { visibleEvents } from '../lists/access.js';
import { toStoredEvent } from './append-events.js';
import type { StoredEvent } from './types.js';

export interface Position {
  txId: string;
  seq: string;
}

export const START: Position = { txId: '0', seq: '0' };

type EventRecord = Parameters<typeof toStoredEvent>[0];

// tx_id as text: xid8 has no JS parser of its own on either database.
const EVENT_COLUMNS = sql.raw(
  'seq, event_id, type, user_id, actor_id, aggregate_type, aggregate_id, aggregate_version, ' +
    'correlation_id, causation_id, occurred_at, data, schema_version, tx_id::text AS tx_id',
);

export async function readEventById(q: Tx['q'], eventId: string): Promise<StoredEvent | null> {
  const result = await sql<EventRecord>`SELECT ${EVENT_COLUMNS} FROM events WHERE event_id = ${eventId}`.execute(q);
  const row = result.rows[0];
  return row ? toStoredEvent(row) : null;
}

/**
 * `AND <event is in this partition>`, or nothing for an unpartitioned consumer. hashtext()
 * is stable across processes and versions; the double modulo keeps negative hashes in range.
 */
export function partitionFilter({ index, count }: { index: number; count: number }) {
  return count > 1 ? sql`AND ((hashtext(aggregate_id::text)::bigint % ${count}) + ${count}) % ${count} = ${index}` : sql``;
}

/**
 * True when committed events exist after `after` that the xmin gate still holds back
 * (an older transaction, in any database of the cluster, is still running). The reader
 * then re-checks soon instead of waiting for its next notification or slow poll, which
 * may never come once the last writer has already notified.
 */
export async function hasEventsHeldBack(q: Tx['q'], after: Position, partition: { index: number; count: number }) {
  const result = await sql<{ held: boolean }>`
    SELECT EXISTS (
      SELECT 1 FROM events
      WHERE (tx_id, seq) > (${after.txId}::xid8, ${after.seq}::bigint)
        ${partitionFilter(partition)}
    ) AS held`.execute(q);
  return result.rows[0]?.held === true;
}

export interface ReadOptions {
  after: Position;
  limit: number;
  /** Only events whose aggregate hashes into this partition. */
  partition: { index: number; count: number };
}

export async function readEventsAfter(q: Tx['q'], { after, limit, partition }: ReadOptions): Promise<StoredEvent[]> {
  const result = await sql<EventRecord>`
    SELECT ${EVENT_COLUMNS}
    FROM events
    WHERE (tx_id, seq) > (${after.txId}::xid8, ${after.seq}::bigint)
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ${partitionFilter(partition)}
    ORDER BY tx_id, seq
    LIMIT ${limit}`.execute(q);
  return result.rows.map(toStoredEvent);
}

// ---------------------------------------------------------------------------------------
// Tailers that keep their position in memory (the real-time hub of every server process):
// the same (tx_id, seq) order and the same xmin gate, read outside any transaction.

type Reader = Kysely<DB> | Transaction<DB>;

/**
 * The last event below the xmin gate: a tailer that starts here and reads with
 * readLogAfter sees every event committed from now on, late commits included (their
 * tx_id is at least the gate, so they sort after this position).
 */
export async function readLogHead(q: Reader): Promise<Position> {
  const result = await sql<Position>`
    SELECT tx_id::text AS "txId", seq::text AS seq
    FROM events
    WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY tx_id DESC, seq DESC
    LIMIT 1`.execute(q);
  return result.rows[0] ?? START;
}

/** Every user's events after `after`, gated and ordered like readEventsAfter (one statement). */
export function readLogAfter(q: Reader, after: Position, limit: number): Promise<StoredEvent[]> {
  // readEventsAfter runs one statement and needs no transaction of its own.
  return readEventsAfter(q as Transaction<DB>, { after, limit, partition: { index: 0, count: 1 } });
}

/**
 * The events one user may see (lists/access.ts: visibleEvents, the live log and the
 * archive) after `after`, gated and ordered like readEventsAfter: a resuming client gets a
 * gap-free prefix of its events in log order.
 */
export async function readVisibleEventsAfter(
  q: Reader,
  userId: string,
  { after, limit }: { after: Position; limit: number },
): Promise<StoredEvent[]> {
  const rows = await visibleEvents(q, userId)
    .select([
      'events.seq',
      'events.event_id',
      'events.type',
      'events.user_id',
      'events.actor_id',
      'events.aggregate_type',
      'events.aggregate_id',
      'events.aggregate_version',
      'events.correlation_id',
      'events.causation_id',
      'events.occurred_at',
      'events.data',
      'events.schema_version',
      sql<string>`events.tx_id::text`.as('tx_id'),
    ])
    .where(sql<boolean>`(events.tx_id, events.seq) > (${after.txId}::xid8, ${after.seq}::bigint)`)
    .where(sql<boolean>`events.tx_id < pg_snapshot_xmin(pg_current_snapshot())`)
    .orderBy(sql`events.tx_id`)
    .orderBy('events.seq')
    .limit(limit)
    .execute();
  return rows.map((row) => toStoredEvent({ ...row, data: row.data as unknown }));
}

/**
 * Whether events after `position` have moved to events_archive (EVENT_RETENTION_DAYS): a
 * client resuming from there is older than retention. By seq alone, over the archive's
 * primary key; an event at the edge that sorts differently by tx_id is still replayed,
 * since readVisibleEventsAfter reads the archive too.
 */
export async function isArchivedAfter(q: Reader, position: Position): Promise<boolean> {
  const result = await sql<{ archived: boolean }>`
    SELECT EXISTS (SELECT 1 FROM events_archive WHERE seq > ${position.seq}::bigint) AS archived`.execute(q);
  return result.rows[0]?.archived ?? false;
}
