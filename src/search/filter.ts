// What a task filter says, as plain data: the URL parameters and the filter expression
// language both become one `Filter` tree, and one query builder (task-query.ts) turns that
// tree into SQL. Dates are still relative here ("today", "+3 days"): they are resolved
// against `now` and the reader's time zone only when the query is built (due-ranges.ts).
import type { Priority } from '../tasks/schema.js';

/** A calendar day: a given date, or today in the reader's zone, moved by `offsetDays`. */
export interface DayRef {
  date: string | null;
  offsetDays: number;
}

/** One end of a range: the start of a day in the reader's zone, or an exact instant. */
export type Bound = { day: DayRef } | { instant: string };

/** `from` inclusive, `until` exclusive; either may be open. */
export interface Range {
  from?: Bound;
  until?: Bound;
}

export type Filter =
  /** Every filter holds (an empty list: always true). */
  | { kind: 'all'; of: Filter[] }
  /** At least one holds (an empty list: never true). */
  | { kind: 'any'; of: Filter[] }
  | { kind: 'not'; filter: Filter }
  | { kind: 'priority'; priorities: Priority[] }
  /** Has a tag with this name (case-insensitive). */
  | { kind: 'tag'; name: string }
  | { kind: 'untagged' }
  /** Due before now (a timed task) or before today (an all-day task); status filters separately. */
  | { kind: 'overdue' }
  | { kind: 'undated' }
  /** Has a repeat rule (tasks.recurrence, issue 6). */
  | { kind: 'recurring' }
  /** Has a pending reminder (reminders, issue 7). */
  | { kind: 'reminded' }
  | { kind: 'due'; range: Range }
  | { kind: 'created'; range: Range }
  | { kind: 'completed'; range: Range }
  /** Full-text search with websearch syntax and a prefix match on the last word. */
  | { kind: 'text'; query: string };

export const ALWAYS: Filter = { kind: 'all', of: [] };

export const today = (offsetDays = 0): DayRef => ({ date: null, offsetDays });
export const onDate = (date: string, offsetDays = 0): DayRef => ({ date, offsetDays });
export const nextDay = (day: DayRef): DayRef => ({ ...day, offsetDays: day.offsetDays + 1 });

/** The AND of the given filters, flattened; a single one stays as it is. */
export function allOf(filters: Filter[]): Filter {
  const flat = filters.flatMap((f) => (f.kind === 'all' ? f.of : [f]));
  return flat.length === 1 ? (flat[0] as Filter) : { kind: 'all', of: flat };
}

/** Whether the filter can only hold for completed tasks' completion times (then status defaults to all). */
export function mentionsCompletion(filter: Filter): boolean {
  switch (filter.kind) {
    case 'all':
    case 'any':
      return filter.of.some(mentionsCompletion);
    case 'not':
      return mentionsCompletion(filter.filter);
    case 'completed':
      return true;
    default:
      return false;
  }
}

/** The text searches that make a task match (not under a NOT): what rank and highlights use. */
export function positiveTextQueries(filter: Filter, positive = true): string[] {
  switch (filter.kind) {
    case 'all':
    case 'any':
      return filter.of.flatMap((f) => positiveTextQueries(f, positive));
    case 'not':
      return positiveTextQueries(filter.filter, !positive);
    case 'text':
      return positive ? [filter.query] : [];
    default:
      return [];
  }
}

/** Whether resolving the filter needs the reader's time zone (any day-relative term). */
export function needsTimeZone(filter: Filter): boolean {
  switch (filter.kind) {
    case 'all':
    case 'any':
      return filter.of.some(needsTimeZone);
    case 'not':
      return needsTimeZone(filter.filter);
    case 'overdue':
    case 'due':
    case 'created':
    case 'completed':
      return true;
    default:
      return false;
  }
}
