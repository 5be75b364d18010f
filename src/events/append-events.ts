// Appends events to the log inside the caller's transaction. Tailers are woken after the
// COMMIT (transaction.ts's onCommitted → the in-process nudge and commit-notifier.ts's
// NOTIFY), so a listener is never woken for an event that does not exist.
import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/transaction.js';
import type { Actor, NewEvent, StoredEvent } from './types.js';

export const EVENTS_CHANNEL = 'taskflow_events';

export async function appendEvents(tx: Tx, actor: Actor, now: Date, events: NewEvent[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  const rows = await tx.q
    .insertInto('events')
    .values(
      events.map((e) => ({
        event_id: randomUUID(),
        type: e.type,
        user_id: e.userId,
        actor_id: actor.userId,
        aggregate_type: e.aggregateType,
        aggregate_id: e.aggregateId,
        aggregate_version: e.aggregateVersion,
        correlation_id: actor.correlationId,
        causation_id: e.causationId ?? null,
        occurred_at: now,
        data: JSON.stringify(e.data),
      })),
    )
    .returningAll()
    .execute();
  const stored = rows.map(toStoredEvent);
  for (const e of stored) tx.appended.push({ type: e.type, seq: e.seq });
  return stored;
}

export function toStoredEvent(row: {
  seq: string;
  event_id: string;
  type: string;
  user_id: string;
  actor_id: string | null;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_version: number;
  correlation_id: string | null;
  causation_id: string | null;
  occurred_at: Date;
  data: unknown;
  schema_version: number;
  tx_id: string;
}): StoredEvent {
  return {
    seq: row.seq,
    eventId: row.event_id,
    type: row.type as StoredEvent['type'],
    userId: row.user_id,
    actorId: row.actor_id,
    aggregateType: row.aggregate_type as StoredEvent['aggregateType'],
    aggregateId: row.aggregate_id,
    aggregateVersion: row.aggregate_version,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    occurredAt: row.occurred_at,
    data: row.data as Record<string, unknown>,
    schemaVersion: row.schema_version,
    txId: row.tx_id,
  };
}
