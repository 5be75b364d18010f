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
import { EVENT_COLUMNS, type StoredEvent } from './types.js';

export interface Position {
  txId: string;
  seq: string;
}

export const START: Position = { txId: '0', seq: '0' };

/** Negative when a sorts before b in log order, 0 when equal, positive after. */
export function comparePositions(a: Position, b: Position): number {
  const tx = BigInt(a.txId) - BigInt(b.txId);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  const seq = BigInt(a.seq) - BigInt(b.seq);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

type EventRecord = Parameters<typeof toStoredEvent>[0];

// tx_id as text: xid8 has no JS parser of its own on either database.
const EVENT_COLUMNS_SQL = sql.raw(EVENT_COLUMNS.map((c) => (c === 'tx_id' ? 'tx_id::text AS tx_id' : c)).join(', '));

export async function readEventById(q: Tx['q'], eventId: string): Promise<StoredEvent | null> {
  const result = await sql<EventRecord>`SELECT ${EVENT_COLUMNS_SQL} FROM events WHERE event_id = ${eventId}`.execute(q);
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
    SELECT ${EVENT_COLUMNS_SQL}
    FROM events
    WHERE (tx_id, seq) > (${after.txId}::xid8, ${after.seq}::bigint)
      AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ${partitionFilter(partition)}
    ORDER BY tx_id, seq
    LIMIT ${limit}`.execute(q);
  return result.rows.map(toStoredEvent);
}

export interface ConsumerBatch {
  /** Events the consumer handles (type and partition match), in order, at most `limit`. */
  events: StoredEvent[];
  /** The last position scanned when every scanned event before it is in `events` or not
   *  the consumer's: the checkpoint may move there even if `events` is empty. */
  scannedTo: Position | null;
  /** How many events were scanned (a full scan means: read again at once). */
  scanned: number;
}

/**
 * A consumer's next batch, filtered in SQL: scans up to `scanLimit` events past the
 * checkpoint under the xmin gate, returns only those of the consumer's types and partition
 * (at most `limit`), plus how far the scan got. One statement, so the gate, the scan and
 * the filter see one snapshot. Without it every consumer read and parsed every event, and
 * a consumer of rare types (or an idle partition) could not move its checkpoint at all.
 */
export async function readConsumerBatch(
  q: Tx['q'],
  options: ReadOptions & { scanLimit: number; types: readonly string[] | 'all' },
): Promise<ConsumerBatch> {
  const { after, limit, scanLimit, partition, types } = options;
  const typeMatch = types === 'all' ? sql`TRUE` : sql`type = ANY(${[...types]}::text[])`;
  const partitionMatch =
    partition.count > 1
      ? sql`((hashtext(aggregate_id::text)::bigint % ${partition.count}) + ${partition.count}) % ${partition.count} = ${partition.index}`
      : sql`TRUE`;
  const result = await sql<EventRecord & { mine: boolean; scanned: number; last_tx: string; last_seq: string }>`
    WITH scanned AS (
      SELECT tx_id, seq FROM events
      WHERE (tx_id, seq) > (${after.txId}::xid8, ${after.seq}::bigint)
        AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY tx_id, seq
      LIMIT ${scanLimit}
    ), last AS (
      SELECT tx_id, seq, (SELECT count(*) FROM scanned)::int AS scanned FROM scanned ORDER BY tx_id DESC, seq DESC LIMIT 1
    ), mine AS (
      SELECT ${EVENT_COLUMNS_SQL}, TRUE AS mine
      FROM events
      WHERE seq IN (SELECT seq FROM scanned) AND ${typeMatch} AND ${partitionMatch}
      ORDER BY tx_id, seq
      LIMIT ${limit}
    )
    SELECT mine.*, last.scanned, last.tx_id::text AS last_tx, last.seq AS last_seq
    FROM last LEFT JOIN mine ON TRUE
    ORDER BY mine.tx_id, mine.seq`.execute(q);
  const rows = result.rows;
  const first = rows[0];
  if (!first) return { events: [], scannedTo: null, scanned: 0 };
  const events = rows.filter((r) => r.seq !== null && r.mine).map(toStoredEvent);
  // Filled up to `limit`: later scanned events may be ours, so stop at the last one read.
  const scannedTo = events.length >= limit ? null : { txId: first.last_tx, seq: first.last_seq };
  return { events, scannedTo, scanned: first.scanned };
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
    .select(EVENT_COLUMNS.filter((c) => c !== 'tx_id').map((c) => `events.${c}` as const))
    .select(sql<string>`events.tx_id::text`.as('tx_id'))
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
