// Events are past-tense facts, plain typed data. The type names are part of the public
// contract (activity feed, real-time stream, broker topics): add new ones, never rename.

export const EVENT_TYPES = [
  'task.created',
  'task.updated',
  'task.completed',
  'task.reopened',
  'task.deleted',
  'task.restored',
  'task.occurrence.skipped',
  'task.recurrence.generated',
  'task.recurrence.finished',
  'tag.created',
  'tag.renamed',
  'tag.recolored',
  'tag.deleted',
  'view.created',
  'view.updated',
  'view.deleted',
  'user.registered',
  'user.role_changed',
  'api_token.created',
  'api_token.revoked',
  'list.created',
  'reminder.scheduled',
  'reminder.rescheduled',
  'reminder.snoozed',
  'reminder.cancelled',
  'reminder.fired',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export type AggregateType = 'task' | 'tag' | 'list' | 'user' | 'view' | 'reminder' | 'api_token';

/** An event about to be appended; envelope fields the store fills are absent. */
export interface NewEvent {
  type: EventType;
  aggregateType: AggregateType;
  aggregateId: string;
  /** Version of the aggregate after this change (1 for a creation). */
  aggregateVersion: number;
  /** Whose history the event belongs to: the owner of the aggregate. */
  userId: string;
  data: Record<string, unknown>;
  causationId?: string | null;
}

/** Who is acting, and the request that caused it: stamped on every event. */
export interface Actor {
  userId: string;
  correlationId: string | null;
}

export interface StoredEvent {
  seq: string;
  eventId: string;
  type: EventType;
  userId: string;
  actorId: string | null;
  aggregateType: AggregateType;
  aggregateId: string;
  aggregateVersion: number;
  correlationId: string | null;
  causationId: string | null;
  occurredAt: Date;
  data: Record<string, unknown>;
  schemaVersion: number;
  txId: string;
}

/** The payload of an update: only the fields that changed, before and after. */
export interface FieldChanges {
  before: Record<string, unknown>;
  after: Record<string, unknown>;
}

/**
 * Every column of `events`, which `events_archive` mirrors: the one list that readers,
 * the archive and the access rules select. `tx_id` (xid8) has no JS parser on either
 * database: raw SQL readers select it as text (EVENT_COLUMNS_SQL in read-events.ts).
 */
export const EVENT_COLUMNS = [
  'seq',
  'event_id',
  'type',
  'user_id',
  'actor_id',
  'aggregate_type',
  'aggregate_id',
  'aggregate_version',
  'correlation_id',
  'causation_id',
  'occurred_at',
  'data',
  'schema_version',
  'tx_id',
] as const;
