// Dead letters: events a consumer failed on maxAttempts times. Recording one lets the
// consumer move on; an admin can list them and retry one (which runs the handler again,
// outside checkpoint order, and marks it resolved on success).
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.js';
import type { Tx } from '../db/transaction.js';
import type { StoredEvent } from './types.js';

export interface DeadLetterView {
  id: string;
  consumer: string;
  event_seq: string;
  event_id: string;
  event_type: string;
  error: string;
  attempts: number;
  first_failed_at: string;
  last_failed_at: string;
  status: 'pending' | 'resolved';
  resolved_at: string | null;
}

export interface Failure {
  attempts: number;
  firstFailedAt: Date;
  lastFailedAt: Date;
  error: string;
}

export async function recordDeadLetter(tx: Tx, consumer: string, event: StoredEvent, failure: Failure): Promise<void> {
  await tx.q
    .insertInto('dead_letters')
    .values({
      id: randomUUID(),
      consumer,
      event_seq: event.seq,
      event_id: event.eventId,
      event_type: event.type,
      error: failure.error,
      attempts: failure.attempts,
      first_failed_at: failure.firstFailedAt,
      last_failed_at: failure.lastFailedAt,
    })
    // A re-run after a crash may dead-letter the same event again: keep one row, updated.
    .onConflict((oc) =>
      oc.columns(['consumer', 'event_id']).doUpdateSet({
        error: failure.error,
        attempts: failure.attempts,
        last_failed_at: failure.lastFailedAt,
        status: 'pending',
      }),
    )
    .execute();
}

export async function listDeadLetters(
  db: Kysely<DB>,
  filter: { status?: 'pending' | 'resolved' | undefined; consumer?: string | undefined; limit: number },
): Promise<DeadLetterView[]> {
  let q = db.selectFrom('dead_letters').selectAll();
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.consumer) q = q.where('consumer', '=', filter.consumer);
  const rows = await q.orderBy('last_failed_at', 'desc').limit(filter.limit).execute();
  return rows.map(toView);
}

export function toView(row: {
  id: string;
  consumer: string;
  event_seq: string;
  event_id: string;
  event_type: string;
  error: string;
  attempts: number;
  first_failed_at: Date;
  last_failed_at: Date;
  status: 'pending' | 'resolved';
  resolved_at: Date | null;
}): DeadLetterView {
  return {
    ...row,
    first_failed_at: row.first_failed_at.toISOString(),
    last_failed_at: row.last_failed_at.toISOString(),
    resolved_at: row.resolved_at?.toISOString() ?? null,
  };
}
