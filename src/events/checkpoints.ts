// Consumer checkpoints: one row per (consumer, partition) holding the last handled
// (tx_id, seq). Advanced with compare-and-set in the same transaction as the handler's
// effects, so a batch is either fully applied with its checkpoint or not at all.

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/tables.js';
import type { Tx } from '../db/transaction.js';
import type { Position } from './read-events.js';

/**
 * Creates missing checkpoint rows. A partition added later starts from the lowest
 * existing checkpoint of the consumer (re-handling some events rather than skipping any).
 */
export async function ensureCheckpoints(db: Kysely<DB>, consumer: string, partitions: number): Promise<void> {
  await sql`
    INSERT INTO consumer_checkpoints (consumer, partition, tx_id, seq)
    SELECT ${consumer}, p,
           coalesce((SELECT min(tx_id::text::bigint)::text::xid8 FROM consumer_checkpoints WHERE consumer = ${consumer}), '0'::xid8),
           0
    FROM generate_series(0, ${partitions - 1}) AS p
    ON CONFLICT (consumer, partition) DO NOTHING`.execute(db);
}

/**
 * Claims (consumer, partition) for this transaction with a transaction-scoped advisory lock,
 * then reads its checkpoint; null when another worker holds it. Two statements on purpose:
 * read in the same statement as the lock, the row would come from a snapshot taken before
 * the lock was granted, so it could miss the commit of the worker that held it a moment ago
 * and the whole batch would be handled again only to fail its compare-and-set (its
 * external effects repeated). Read after the lock, it sees that commit.
 */
export async function claimCheckpoint(q: Tx['q'], lockNamespace: number, consumer: string, partition: number) {
  const claimed = await sql<{ ok: boolean }>`
    SELECT pg_try_advisory_xact_lock(${lockNamespace}, hashtext(${`${consumer}:${partition}`})) AS ok`.execute(q);
  if (!claimed.rows[0]?.ok) return null;
  const row = await sql<{ tx_id: string; seq: string }>`
    SELECT tx_id::text AS tx_id, seq FROM consumer_checkpoints
    WHERE consumer = ${consumer} AND partition = ${partition}`.execute(q);
  const cp = row.rows[0];
  if (!cp) throw new Error(`no checkpoint row for consumer ${consumer} partition ${partition}`);
  return { txId: cp.tx_id, seq: cp.seq } satisfies Position;
}

export class CheckpointMoved extends Error {}

/** Moves the checkpoint from `from` to `to`; throws if another worker moved it meanwhile. */
export async function advanceCheckpoint(
  q: Tx['q'],
  consumer: string,
  partition: number,
  from: Position,
  to: Position,
  now: Date,
): Promise<void> {
  const result = await sql`
    UPDATE consumer_checkpoints
    SET tx_id = ${to.txId}::xid8, seq = ${to.seq}::bigint, updated_at = ${now}
    WHERE consumer = ${consumer} AND partition = ${partition}
      AND tx_id = ${from.txId}::xid8 AND seq = ${from.seq}::bigint`.execute(q);
  if (result.numAffectedRows !== 1n) {
    throw new CheckpointMoved(`checkpoint of ${consumer}/${partition} moved concurrently`);
  }
}
