// Reads of the event log for people: the activity feed, a task's history, the task as it
// was at a moment, and undo of one change. Every read is scoped by visibleEvents (the one
// rule of who sees which events); summaries come from the pure summarizeEvent.
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { DB } from '../db/tables.js';
import type { Transact } from '../db/transaction.js';
import { NotFound, NotRevertible } from '../errors.js';
import { type Actor, EVENT_COLUMNS, type FieldChanges } from '../events/types.js';
import { visibleEvents } from '../lists/access.js';
import type { TaskView } from '../tasks/schema.js';
import { foldTaskEvents, type TaskService } from '../tasks/service.js';
import { decodeActivityCursor, encodeActivityCursor } from './cursor.js';
import type { ActivityEntry, ActivityPage, ActivityQuery } from './schema.js';
import { summarizeEvent } from './summarize.js';

export interface ActivityServiceDeps {
  db: Kysely<DB>;
  /** Unused today: undo goes through the task service's transactions. */
  transact: Transact;
  clock: Clock;
  tasks: TaskService;
}

export type ActivityService = ReturnType<typeof createActivityService>;

// What the feed shows of an event: all but the routing columns (owner, schema, tx_id).
const FEED_COLUMNS = EVENT_COLUMNS.filter((c) => c !== 'user_id' && c !== 'schema_version' && c !== 'tx_id').map(
  (c) => `events.${c}` as const,
);

interface EventRow {
  seq: string;
  event_id: string;
  type: string;
  actor_id: string | null;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_version: number;
  correlation_id: string | null;
  causation_id: string | null;
  occurred_at: Date;
  data: unknown;
}

// Task events whose data carries no title; their summary needs the task's title looked up.
const NEEDS_TITLE = (row: EventRow) => row.aggregate_type === 'task' && titleIn(row.data) === undefined;

export function createActivityService({ db, tasks }: ActivityServiceDeps) {
  /** The user's events, newest first, filtered, one keyset page at a time. */
  async function listActivity(actor: Actor, query: ActivityQuery): Promise<ActivityPage> {
    let q = visibleEvents(db, actor.userId).select(FEED_COLUMNS);
    if (query.type) q = q.where('events.type', 'in', query.type);
    if (query.task_id) q = q.where('events.aggregate_type', '=', 'task').where('events.aggregate_id', '=', query.task_id);
    if (query.from) q = q.where('events.occurred_at', '>=', new Date(query.from));
    if (query.to) q = q.where('events.occurred_at', '<', new Date(query.to));
    if (query.correlation_id) q = q.where('events.correlation_id', '=', query.correlation_id);
    if (query.cursor) q = q.where('events.seq', '<', decodeActivityCursor(query.cursor));
    const rows: EventRow[] = await q
      .orderBy('events.seq', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const timeZone = await userTimeZone(actor.userId);
    const titles = await latestTaskTitles(db, actor.userId, [...new Set(page.filter(NEEDS_TITLE).map((r) => r.aggregate_id))]);
    const last = page.at(-1);
    return {
      items: page.map((row) => toEntry(row, timeZone, titles.get(row.aggregate_id))),
      next_cursor: rows.length > query.limit && last ? encodeActivityCursor(last.seq) : null,
    };
  }

  /** Every event of one task, oldest first; readable after the task was deleted. */
  async function taskHistory(actor: Actor, taskId: string): Promise<{ items: ActivityEntry[] }> {
    const rows = await taskEvents(actor.userId, taskId);
    if (rows.length === 0) throw new NotFound(`Task ${taskId} not found`);
    const timeZone = await userTimeZone(actor.userId);
    // Each summary names the task by its title at that point of its history.
    let title: string | undefined;
    return {
      items: rows.map((row) => {
        title = titleIn(row.data) ?? title;
        return toEntry(row, timeZone, title);
      }),
    };
  }

  /** The task as it was at `time`, folded from its events; 404 if it did not exist then. */
  async function taskAt(actor: Actor, taskId: string, time: Date): Promise<TaskView> {
    const rows = await taskEvents(actor.userId, taskId, time);
    const task = foldTaskEvents(rows.map(toFoldable));
    if (!task) throw new NotFound(`Task ${taskId} did not exist at ${time.toISOString()}`);
    return task;
  }

  /** Undoes one task.updated by setting its fields back, if nobody changed them since. */
  async function revertEvent(actor: Actor, eventId: string): Promise<TaskView> {
    const event = await visibleEvents(db, actor.userId)
      .select(['events.event_id', 'events.type', 'events.aggregate_id', 'events.data'])
      .where('events.event_id', '=', eventId)
      .executeTakeFirst();
    if (!event) throw new NotFound(`Event ${eventId} not found`);
    if (event.type !== 'task.updated') throw new NotRevertible(`A ${event.type} event cannot be reverted`);
    return tasks.revertUpdate(actor, event.aggregate_id, event.data as FieldChanges, event.event_id);
  }

  function taskEvents(userId: string, taskId: string, until?: Date): Promise<EventRow[]> {
    let q = visibleEvents(db, userId)
      .select(FEED_COLUMNS)
      .where('events.aggregate_type', '=', 'task')
      .where('events.aggregate_id', '=', taskId);
    if (until) q = q.where('events.occurred_at', '<=', until);
    return q.orderBy('events.seq').execute();
  }

  async function userTimeZone(userId: string): Promise<string> {
    const row = await db.selectFrom('users').select('time_zone').where('id', '=', userId).executeTakeFirst();
    return row?.time_zone ?? 'UTC';
  }

  return { listActivity, taskHistory, taskAt, revertEvent };
}

function toEntry(row: EventRow, timeZone: string, taskTitle: string | undefined): ActivityEntry {
  const data = (row.data ?? {}) as Record<string, unknown>;
  return {
    cursor: encodeActivityCursor(row.seq),
    seq: row.seq,
    event_id: row.event_id,
    type: row.type,
    occurred_at: row.occurred_at.toISOString(),
    actor_id: row.actor_id,
    aggregate_type: row.aggregate_type,
    aggregate_id: row.aggregate_id,
    aggregate_version: row.aggregate_version,
    correlation_id: row.correlation_id,
    causation_id: row.causation_id,
    data,
    summary: summarizeEvent({ type: row.type, data }, { timeZone, taskTitle }),
  };
}

function toFoldable(row: EventRow) {
  return {
    type: row.type,
    aggregateId: row.aggregate_id,
    aggregateVersion: row.aggregate_version,
    occurredAt: row.occurred_at,
    data: (row.data ?? {}) as Record<string, unknown>,
  };
}

/** The title an event's data states: a snapshot's title, or an update's new title. */
function titleIn(data: unknown): string | undefined {
  const d = (data ?? {}) as { title?: unknown; after?: { title?: unknown } };
  const title = d.after?.title ?? d.title;
  return typeof title === 'string' ? title : undefined;
}

/**
 * The latest title each task had in the user's log, for many tasks in one query (no N+1):
 * DISTINCT ON over events_aggregate_seq_idx, the newest title-bearing event per task.
 * Shared by the activity feed and the real-time stream's summaries.
 */
export async function latestTaskTitles(db: Kysely<DB>, userId: string, taskIds: string[]): Promise<Map<string, string>> {
  if (taskIds.length === 0) return new Map();
  const title = sql<string | null>`coalesce(events.data -> 'after' ->> 'title', events.data ->> 'title')`;
  const rows = await visibleEvents(db, userId)
    .distinctOn('events.aggregate_id')
    .select(['events.aggregate_id', title.as('title')])
    .where('events.aggregate_type', '=', 'task')
    .where('events.aggregate_id', 'in', taskIds)
    .where(title, 'is not', null)
    .orderBy('events.aggregate_id')
    .orderBy('events.seq', 'desc')
    .execute();
  return new Map(rows.flatMap((r) => (r.title === null ? [] : [[r.aggregate_id, r.title] as const])));
}
