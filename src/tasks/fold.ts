// A task's history as a left fold: `evolveTask(state, event)` rebuilds the task, in the
// shape the API shows (TaskView), from its events alone. Pure: no I/O, no clock. Invariant
// (property-tested through HTTP): folding every event of a task equals GET /tasks/{id}.
import { TASK_FIELDS, type TaskState } from './domain.js';
import type { TaskView } from './schema.js';

/** The part of a stored event the fold reads (a StoredEvent fits). */
export interface TaskEventLike {
  type: string;
  aggregateId: string;
  aggregateVersion: number;
  occurredAt: Date;
  data: Record<string, unknown>;
}

/** The task after `event`, or null when it does not exist (not yet created, or deleted). */
export function evolveTask(state: TaskView | null, event: TaskEventLike): TaskView | null {
  const at = event.occurredAt.toISOString();
  // Every event of a task bumps its version and its updated_at, known types or not.
  const stamp = { updated_at: at, version: event.aggregateVersion };
  switch (event.type) {
    case 'task.created':
      return { id: event.aggregateId, ...taskStateOf(event.data), created_at: at, ...stamp };
    case 'task.restored': {
      // A restore re-creates the row with its original created_at, which the event carries.
      const createdAt = typeof event.data.created_at === 'string' ? event.data.created_at : at;
      return { id: event.aggregateId, ...taskStateOf(event.data), created_at: createdAt, ...stamp };
    }
    case 'task.deleted':
      return null;
  }
  if (!state) return null;
  switch (event.type) {
    case 'task.updated':
    // A skip moves the due date; its data carries before/after like an update.
    case 'task.occurrence.skipped':
      return { ...state, ...pickTaskFields(event.data.after), ...stamp };
    case 'task.completed':
      return { ...state, status: 'completed', completed_at: String(event.data.completed_at), ...stamp };
    case 'task.reopened':
      return { ...state, status: 'open', completed_at: null, ...stamp };
    default:
      return { ...state, ...stamp };
  }
}

/** The task after all of `events` (in aggregate order). */
export function foldTaskEvents(events: readonly TaskEventLike[]): TaskView | null {
  return events.reduce<TaskView | null>(evolveTask, null);
}

/** The full TaskState snapshot that task.created, task.deleted and task.restored carry. */
export function taskStateOf(data: Record<string, unknown>): TaskState {
  const picked = pickTaskFields(data);
  return {
    list_id: String(picked.list_id),
    title: String(picked.title ?? ''),
    description: String(picked.description ?? ''),
    due_date: picked.due_date ?? null,
    due_at: picked.due_at ?? null,
    time_zone: picked.time_zone ?? null,
    priority: picked.priority ?? 'none',
    tags: picked.tags ?? [],
    status: picked.status ?? 'open',
    completed_at: picked.completed_at ?? null,
    recurrence: picked.recurrence ?? null,
    series_id: picked.series_id ?? null,
  };
}

/** Only the known task fields of an event payload (extra keys never leak into the view). */
function pickTaskFields(value: unknown): Partial<TaskState> {
  if (typeof value !== 'object' || value === null) return {};
  const source = value as Record<string, unknown>;
  const picked: Record<string, unknown> = {};
  for (const field of TASK_FIELDS) {
    if (field in source) picked[field] = field === 'tags' ? [...((source[field] as string[]) ?? [])] : source[field];
  }
  return picked as Partial<TaskState>;
}
