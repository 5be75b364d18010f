// Day arithmetic in the reader's time zone, for the date filters. Pure: `now` and the zone
// are inputs. A range becomes the two forms a task's due moment can take: instants (for a
// timed `due_at`) and inclusive calendar dates (for an all-day `due_date`), so that a task
// due at 23:30 local is "today" for its reader whatever UTC's date is.
import { localToInstant, wallTime } from '../time/zones.js';
import type { Bound, DayRef, Range } from './filter.js';

/** A range as the database compares it. Absent fields are open ends. */
export interface ResolvedRange {
  /** Instants: from inclusive, until exclusive. */
  from?: Date;
  until?: Date;
  /** Calendar dates (YYYY-MM-DD), both inclusive. */
  fromDate?: string;
  toDate?: string;
}

/** The date (YYYY-MM-DD) of `instant` on the wall calendar of `timeZone`. */
export function localDate(instant: Date, timeZone: string): string {
  const w = wallTime(instant, timeZone);
  return isoDate(w.year, w.month, w.day);
}

/** `date` moved by whole days (calendar arithmetic, no time zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const moved = new Date(Date.UTC(y, m - 1, d + days));
  return isoDate(moved.getUTCFullYear(), moved.getUTCMonth() + 1, moved.getUTCDate());
}

/** The instant the day starts in `timeZone` (DST-correct; a skipped midnight moves forward). */
export function startOfDay(date: string, timeZone: string): Date {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return localToInstant({ year, month, day, hour: 0, minute: 0 }, timeZone);
}

export function resolveDay(day: DayRef, now: Date, timeZone: string): string {
  return addDays(day.date ?? localDate(now, timeZone), day.offsetDays);
}

/**
 * Instants and dates of a range. A day bound is the start of that day; an instant bound
 * covers the all-day tasks whose day it touches (from: the day it falls on; until: the day
 * of the last instant before it).
 */
export function resolveRange(range: Range, now: Date, timeZone: string): ResolvedRange {
  const resolved: ResolvedRange = {};
  if (range.from) {
    const { instant, date } = resolveBound(range.from, now, timeZone);
    resolved.from = instant;
    resolved.fromDate = date ?? localDate(instant, timeZone);
  }
  if (range.until) {
    const { instant, date } = resolveBound(range.until, now, timeZone);
    resolved.until = instant;
    resolved.toDate = date ? addDays(date, -1) : localDate(new Date(instant.getTime() - 1), timeZone);
  }
  return resolved;
}

function resolveBound(bound: Bound, now: Date, timeZone: string): { instant: Date; date?: string } {
  if ('instant' in bound) return { instant: new Date(bound.instant) };
  const date = resolveDay(bound.day, now, timeZone);
  return { instant: startOfDay(date, timeZone), date };
}

/** What "overdue" means at `now`: timed tasks due before now, all-day tasks due before today. */
export function overdueAt(now: Date, timeZone: string): { now: Date; today: string } {
  return { now, today: localDate(now, timeZone) };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const isoDate = (y: number, m: number, d: number) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
