// Turns log events into the frames a user's connections receive: the activity feed's entry
// shape (same fields, same `summary`, in the user's time zone), the topic, and for
// reminder.fired a reminder toast. Frames are serialized once per user and event, and
// shared by all of that user's connections.
//
// Summaries of completions and most updates name the task by a title the event does not
// carry. Titles come from the events themselves as they stream by (an LRU cache, filled in
// log order per user), else from one scoped query per batch for the misses.
import type { Kysely } from 'kysely';
import { encodeActivityCursor } from '../activity/cursor.js';
import type { ActivityEntry } from '../activity/schema.js';
import { latestTaskTitles } from '../activity/service.js';
import { summarizeEvent } from '../activity/summarize.js';
import type { DB } from '../db/tables.js';
import type { Position } from '../events/read-events.js';
import type { StoredEvent } from '../events/types.js';
import { encodeCursor } from './cursor.js';
import type { ReminderNotice, ServerFrame, Topic } from './schema.js';

export interface PresentedEvent {
  position: Position;
  cursor: string;
  topic: Topic;
  /** The `event` frame, serialized. */
  eventFrame: string;
  /** The `reminder` frame of a reminder.fired event, serialized; null otherwise. */
  reminderFrame: string | null;
}

// What a task view redraws on: tasks, their tags, lists and saved views.
const TASK_AGGREGATES: ReadonlySet<string> = new Set(['task', 'tag', 'list', 'view']);

/** tasks: task, tag, list and view changes; reminders: reminder.*; everything is also activity. */
export function topicOf(event: Pick<StoredEvent, 'type' | 'aggregateType'>): Topic {
  if (event.type.startsWith('reminder.')) return 'reminders';
  return TASK_AGGREGATES.has(event.aggregateType) ? 'tasks' : 'activity';
}

/** Whether a connection subscribed to `topics` receives an event of `topic`. */
export function wants(topics: ReadonlySet<Topic>, topic: Topic): boolean {
  return topics.has(topic) || topics.has('activity');
}

export type TitleCache = ReturnType<typeof createTitleCache>;

/** Latest known title per task, bounded (least recently used entries go first). */
export function createTitleCache(maxEntries: number) {
  const titles = new Map<string, string>();
  return {
    get(taskId: string): string | undefined {
      const title = titles.get(taskId);
      if (title !== undefined) {
        titles.delete(taskId);
        titles.set(taskId, title);
      }
      return title;
    },
    set(taskId: string, title: string): void {
      titles.delete(taskId);
      titles.set(taskId, title);
      if (titles.size > maxEntries) {
        const oldest = titles.keys().next().value;
        if (oldest !== undefined) titles.delete(oldest);
      }
    },
  };
}

/**
 * Presents `events` (one user's, in log order) for that user. `titles` is the live cache,
 * or a fresh one for a replay (a replay walks old events; it must not rewind the cache).
 */
export async function presentEvents(
  db: Kysely<DB>,
  user: { id: string; timeZone: string },
  events: readonly StoredEvent[],
  titles: TitleCache,
): Promise<PresentedEvent[]> {
  // Task ids whose title is neither in the cache nor carried by an earlier event of the batch.
  const missing = new Set<string>();
  const carried = new Set<string>();
  for (const event of events) {
    const taskId = taskIdOf(event);
    if (taskId === undefined) continue;
    if (event.aggregateType === 'task' && titleIn(event.data) !== undefined) carried.add(taskId);
    else if (!carried.has(taskId) && titles.get(taskId) === undefined) missing.add(taskId);
  }
  if (missing.size > 0) {
    for (const [taskId, title] of await latestTaskTitles(db, user.id, [...missing])) titles.set(taskId, title);
  }
  return events.map((event) => {
    const taskId = taskIdOf(event);
    const own = event.aggregateType === 'task' ? titleIn(event.data) : undefined;
    if (taskId !== undefined && own !== undefined) titles.set(taskId, own);
    const title = taskId === undefined ? undefined : (own ?? titles.get(taskId));
    return presentOne(event, user.timeZone, title);
  });
}

function presentOne(event: StoredEvent, timeZone: string, taskTitle: string | undefined): PresentedEvent {
  const position = { txId: event.txId, seq: event.seq };
  const cursor = encodeCursor(position);
  const topic = topicOf(event);
  const entry: ActivityEntry = {
    cursor: encodeActivityCursor(event.seq),
    seq: event.seq,
    event_id: event.eventId,
    type: event.type,
    occurred_at: event.occurredAt.toISOString(),
    actor_id: event.actorId,
    aggregate_type: event.aggregateType,
    aggregate_id: event.aggregateId,
    aggregate_version: event.aggregateVersion,
    correlation_id: event.correlationId,
    causation_id: event.causationId,
    data: event.data,
    summary: summarizeEvent({ type: event.type, data: event.data }, { timeZone, taskTitle }),
  };
  const frame: ServerFrame = { type: 'event', topic, cursor, event: entry };
  let reminderFrame: string | null = null;
  if (isReminderFired(event.type)) {
    const reminder: ReminderNotice = {
      event_id: event.eventId,
      task_id: taskIdOf(event) ?? null,
      title: stringIn(event.data.task_title) ?? stringIn(event.data.title) ?? taskTitle ?? null,
      occurred_at: entry.occurred_at,
      summary: entry.summary,
      data: event.data,
    };
    reminderFrame = JSON.stringify({ type: 'reminder', cursor, reminder } satisfies ServerFrame);
  }
  return { position, cursor, topic, eventFrame: JSON.stringify(frame), reminderFrame };
}

/** The task an event is about: its aggregate, or the task_id of a reminder event. */
function taskIdOf(event: StoredEvent): string | undefined {
  if (event.aggregateType === 'task') return event.aggregateId;
  return event.type.startsWith('reminder.') ? stringIn(event.data.task_id) : undefined;
}

/** The title an event's data states: a snapshot's title, or an update's new title. */
function titleIn(data: Record<string, unknown>): string | undefined {
  const after = data.after as { title?: unknown } | undefined;
  return stringIn(after?.title) ?? stringIn(data.title);
}

// A string comparison: reminder.fired joins EVENT_TYPES with the reminders capability.
const isReminderFired = (type: string) => type === 'reminder.fired';

const stringIn = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
