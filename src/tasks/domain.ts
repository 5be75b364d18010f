// Pure task rules: no I/O, no clock of their own. The service feeds them rows and `now`;
// the tests call them directly. TaskState is the shape events carry (snake_case, as the
// API shows it), so history folding and the API never disagree on a field's meaning.

import type { TaskRecurrence } from '../db/tables.js';
import { NotRevertible, RevertConflict, ValidationFailed } from '../errors.js';
import type { FieldChanges } from '../events/types.js';
import { localToInstant } from '../time/zones.js';
import { PRIORITIES, type Priority } from './schema.js';

export interface TaskState {
  list_id: string;
  title: string;
  description: string;
  due_date: string | null;
  due_at: string | null;
  time_zone: string | null;
  priority: Priority;
  tags: string[];
  status: 'open' | 'completed';
  completed_at: string | null;
  /** The repeat rule (src/recurrence); null for a one-off task. */
  recurrence: TaskRecurrence | null;
  /** The series this task is an instance of; kept when its recurrence is cleared. */
  series_id: string | null;
}

export const TASK_FIELDS = [
  'list_id',
  'title',
  'description',
  'due_date',
  'due_at',
  'time_zone',
  'priority',
  'tags',
  'status',
  'completed_at',
  'recurrence',
  'series_id',
] as const satisfies ReadonlyArray<keyof TaskState>;

/** Priorities are stored as 0..4 so that sorting by priority is an index scan. */
export const priorityToRank = (p: Priority): number => PRIORITIES.indexOf(p);
export const rankToPriority = (n: number): Priority => PRIORITIES[n] ?? 'none';

/** Trims, drops a leading '#', and removes case-insensitive duplicates (first spelling wins). */
export function normalizeTagNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of names) {
    const name = raw.trim().replace(/^#/, '');
    const key = name.toLowerCase();
    if (name && !seen.has(key)) {
      seen.add(key);
      out.push(name);
    }
  }
  return out;
}

export interface DueInput {
  due_date?: string | null | undefined;
  due_at?: string | null | undefined;
  time_zone?: string | null | undefined;
}

type Due = Pick<TaskState, 'due_date' | 'due_at' | 'time_zone'>;

const HAS_OFFSET = /(Z|z|[+-]\d{2}:\d{2})$/;

/**
 * Applies a due-date change to the current due fields. A due_at without offset is local
 * time in the task's zone (given, else the task's, else the user's); changing only the
 * zone keeps the instant. An all-day due date keeps a zone only if one is given.
 */
export function resolveDue(current: Due, input: DueInput, userTimeZone: string): Due {
  if (input.due_date != null && input.due_at != null) {
    throw new ValidationFailed('A task is due either all day or at a time, not both', {
      errors: [{ field: 'due_at', message: 'give due_date or due_at, not both' }],
    });
  }
  let { due_date, due_at, time_zone } = current;
  if (input.time_zone !== undefined) time_zone = input.time_zone;
  if (input.due_date !== undefined) {
    due_date = input.due_date;
    if (input.due_date !== null) due_at = null;
  }
  if (input.due_at !== undefined) {
    if (input.due_at === null) {
      due_at = null;
    } else {
      time_zone = time_zone ?? userTimeZone;
      due_at = parseDueAt(input.due_at, time_zone).toISOString();
      due_date = null;
    }
  }
  if (due_at !== null && time_zone === null) time_zone = userTimeZone;
  if (due_at === null && due_date === null && input.time_zone === undefined) time_zone = null;
  return { due_date, due_at, time_zone };
}

function parseDueAt(value: string, timeZone: string): Date {
  if (HAS_OFFSET.test(value)) return new Date(value);
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  if (!m) throw new ValidationFailed('Invalid due_at', { errors: [{ field: 'due_at', message: 'is not a date-time' }] });
  const [, y, mo, d, h, mi, s] = m;
  return localToInstant(
    { year: Number(y), month: Number(mo), day: Number(d), hour: Number(h), minute: Number(mi), second: Number(s ?? 0) },
    timeZone,
  );
}

const sameValue = (a: unknown, b: unknown): boolean => {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  // The recurrence object: compared as JSON with sorted keys (jsonb reorders them).
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    return JSON.stringify(a, Object.keys(a).sort()) === JSON.stringify(b, Object.keys(b).sort());
  }
  return a === b;
};

/** The fields that differ, as the `data` of a task.updated event; null when nothing changed. */
export function diffTask(before: TaskState, after: TaskState): FieldChanges | null {
  const changes: FieldChanges = { before: {}, after: {} };
  for (const field of TASK_FIELDS) {
    if (!sameValue(before[field], after[field])) {
      changes.before[field] = before[field];
      changes.after[field] = after[field];
    }
  }
  return Object.keys(changes.after).length > 0 ? changes : null;
}

/** The fields a task.updated may change and a revert may set back. */
const REVERTIBLE_FIELDS = new Set<string>(['title', 'description', 'due_date', 'due_at', 'time_zone', 'priority', 'tags']);

// Tags are a set: compare them ignoring order and case, as the tag store does.
const sameFieldValue = (field: string, a: unknown, b: unknown): boolean =>
  field === 'tags' && Array.isArray(a) && Array.isArray(b)
    ? sameValue(a.map((t) => String(t).toLowerCase()).sort(), b.map((t) => String(t).toLowerCase()).sort())
    : sameValue(a, b);

/**
 * Undo of one task.updated: the state with each changed field back at its `before` value.
 * Allowed only while every such field still holds its `after` value; otherwise throws
 * RevertConflict naming the fields that changed since (a revert never clobbers a newer edit).
 */
export function revertChanges(current: TaskState, changes: FieldChanges): TaskState {
  const fields = Object.keys(changes.after);
  const unsupported = fields.filter((f) => !REVERTIBLE_FIELDS.has(f));
  if (fields.length === 0 || unsupported.length > 0) {
    throw new NotRevertible(`This change cannot be reverted (${unsupported.join(', ') || 'no fields'})`);
  }
  const conflicts = fields.filter((f) => !sameFieldValue(f, current[f as keyof TaskState], changes.after[f]));
  if (conflicts.length > 0) {
    throw new RevertConflict(`Changed again since: ${conflicts.join(', ')}`, {
      errors: conflicts.map((field) => ({ field, message: 'has changed since this event' })),
    });
  }
  const reverted: Record<string, unknown> = { ...current };
  for (const field of fields) reverted[field] = changes.before[field] ?? null;
  if ('tags' in changes.before) reverted.tags = [...((changes.before.tags as string[] | null) ?? [])];
  return reverted as unknown as TaskState;
}
