// The next-occurrence engine (pure): expands a task's RRULE from its DTSTART in the task's
// IANA zone. The rule is expanded on *local wall time* (rrule-temporal over a floating,
// offset-free clock), and each local time is then placed in the zone with localToInstant:
// 09:00 stays 09:00 across DST, a time skipped by spring-forward moves forward by the gap
// (RFC 5545 §3.3.5: "interpreted using the UTC offset before the gap"), an ambiguous one takes
// the earlier instant. See docs/adr/0006-recurrence.md for why the gap is not dropped.
import { RRuleTemporal } from 'rrule-temporal';
import { Temporal } from 'temporal-polyfill';
import { ValidationFailed } from '../errors.js';
import { localToInstant, wallTime } from '../time/zones.js';
import { formatRule, parseRule, type RuleParts } from './rule.js';

export const RECURRENCE_MODES = ['schedule', 'after_completion'] as const;
export type RecurrenceMode = (typeof RECURRENCE_MODES)[number];

export interface Series {
  rule: string;
  /** First due: 'YYYY-MM-DD' for an all-day series, else local 'YYYY-MM-DDTHH:MM:SS' in timeZone. */
  dtstart: string;
  /** The task's zone; null only for an all-day series without one (dates are then zone-free). */
  timeZone: string | null;
  /** Local keys (same form as dtstart) that are not occurrences. */
  exdates: readonly string[];
}

export interface Occurrence {
  /** Local key: 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM:SS'. */
  local: string;
  due_date: string | null;
  due_at: string | null;
}

const fail = (field: string, message: string): never => {
  throw new ValidationFailed(`Invalid recurrence: ${message}`, { errors: [{ field, message }] });
};

export const isAllDay = (local: string): boolean => !local.includes('T');

/** The local key of a due: its date, or its wall time in the zone (seconds included). */
export function localKeyOfDue(due: { due_date: string | null; due_at: string | null; time_zone: string | null }): string | null {
  if (due.due_date) return due.due_date;
  if (!due.due_at) return null;
  const w = wallTime(new Date(due.due_at), due.time_zone ?? 'UTC');
  const p = (n: number) => String(n).padStart(2, '0');
  return `${w.year}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}

function toOccurrence(local: string, timeZone: string | null): Occurrence {
  if (isAllDay(local)) return { local, due_date: local, due_at: null };
  const t = Temporal.PlainDateTime.from(local);
  const instant = localToInstant(
    { year: t.year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second },
    timeZone ?? 'UTC',
  );
  return { local, due_date: null, due_at: instant.toISOString() };
}

// Floating wall time as if it were UTC: the library then never sees a DST transition.
const floatingMs = (local: string): number =>
  Temporal.PlainDateTime.from(isAllDay(local) ? `${local}T00:00` : local).toZonedDateTime('UTC').epochMilliseconds;

function localKeyOf(z: Temporal.ZonedDateTime, allDay: boolean): string {
  const s = z.toPlainDateTime().toString({ smallestUnit: 'second' });
  return allDay ? s.slice(0, 10) : s;
}

function pastUntil(parts: RuleParts, occurrence: Occurrence, timeZone: string | null): boolean {
  const until = parts.until;
  if (!until) return false;
  const date = occurrence.local.slice(0, 10);
  if ('date' in until) return date > until.date; // a date UNTIL includes that whole local day
  if (occurrence.due_at) return occurrence.due_at > until.instant;
  const w = wallTime(new Date(until.instant), timeZone ?? 'UTC');
  return date > `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}

/** Validates a series (rule, DTSTART kind, that it ever occurs) and returns its parsed rule. */
export function checkSeries(series: Series): RuleParts {
  const parts = parseRule(series.rule);
  if (isAllDay(series.dtstart) && (parts.byHour || parts.byMinute)) {
    fail('recurrence.rule', 'an all-day task cannot repeat at an hour (BYHOUR/BYMINUTE); give it a due time');
  }
  if (iterate(series, null).next().done) fail('recurrence.rule', 'the rule never produces a date (e.g. 30 February)');
  return parts;
}

/**
 * The occurrences strictly after the local key `after` (null: from DTSTART inclusive), in
 * order, honouring COUNT, UNTIL and EXDATE. Lazy: take what you need.
 */
export function* iterate(series: Series, after: string | null): Generator<Occurrence> {
  const parts = parseRule(series.rule);
  const allDay = isAllDay(series.dtstart);
  const dtstart = Temporal.PlainDateTime.from(allDay ? `${series.dtstart}T00:00` : series.dtstart).toZonedDateTime('UTC');
  const rule = new RRuleTemporal({ rruleString: formatRule(parts, { withUntil: false }), dtstart });
  const excluded = new Set(series.exdates);
  let cursor = after === null ? dtstart.epochMilliseconds - 1 : floatingMs(after);
  for (;;) {
    let z: Temporal.ZonedDateTime | null;
    try {
      z = rule.next(new Date(cursor), false) as Temporal.ZonedDateTime | null;
    } catch {
      // rrule-temporal gives up after 10,000 empty periods (Feb 30): no further occurrence.
      return;
    }
    if (!z) return;
    cursor = z.epochMilliseconds;
    const local = localKeyOf(z, allDay);
    if (excluded.has(local)) continue;
    const occurrence = toOccurrence(local, series.timeZone);
    if (pastUntil(parts, occurrence, series.timeZone)) return;
    yield occurrence;
  }
}

/** The first `count` occurrences after `after` (null: from DTSTART). */
export function occurrences(series: Series, after: string | null, count: number): Occurrence[] {
  const out: Occurrence[] = [];
  if (count <= 0) return out;
  for (const o of iterate(series, after)) {
    out.push(o);
    if (out.length >= count) break;
  }
  return out;
}

export interface NextInstanceInput {
  series: Series;
  mode: RecurrenceMode;
  /** Create occurrences already in the past (true) or skip to the first one after now (false). */
  catchUp: boolean;
  /** Local key of the instance just completed (its due). */
  current: string;
  completedAt: Date;
  now: Date;
  /** Instances the series has had so far, the completed one included (COUNT in after_completion mode). */
  instancesSoFar: number;
  /**
   * Local key the next occurrence must come strictly after, whatever the mode: the
   * completed instance's own occurrence (occurrenceFloor). Null: no bound.
   */
  floor?: string | null | undefined;
}

export interface NextInstance {
  /** The next instance's occurrence; null when the series has ended (UNTIL/COUNT). */
  next: Occurrence | null;
  /** Occurrences passed over because they were already in the past. */
  skipped: Occurrence[];
}

// A series completed years late still answers quickly: at most this many passed-over dates.
const MAX_SKIPPED = 1000;

/** What follows a completed instance: `schedule` counts from its due, `after_completion` from the completion. */
export function nextInstance(input: NextInstanceInput): NextInstance {
  const { series, now } = input;
  if (input.mode === 'after_completion') {
    const parts = parseRule(series.rule);
    if (parts.count !== undefined && input.instancesSoFar >= parts.count) return { next: null, skipped: [] };
    // Re-anchor DTSTART on the completion day (at the series' time of day); the anchor itself is not a next.
    const day = localKeyOfDue({ due_date: null, due_at: input.completedAt.toISOString(), time_zone: series.timeZone });
    const anchor = isAllDay(series.dtstart)
      ? (day as string).slice(0, 10)
      : `${(day as string).slice(0, 10)}${series.dtstart.slice(10)}`;
    const { count: _count, ...uncounted } = parts;
    const anchored: Series = { ...series, rule: formatRule(uncounted), dtstart: anchor };
    return { next: occurrences(anchored, laterKey(anchor, input.floor), 1)[0] ?? null, skipped: [] };
  }
  const skipped: Occurrence[] = [];
  for (const o of iterate(series, laterKey(input.current, input.floor))) {
    if (input.catchUp || !isPast(o, now, series.timeZone) || skipped.length >= MAX_SKIPPED) return { next: o, skipped };
    skipped.push(o);
  }
  return { next: null, skipped };
}

/** The later of two local keys of the same kind (ISO strings order as dates do). */
export const laterKey = (a: string, b: string | null | undefined): string => (b && b > a ? b : a);

/**
 * The local key an instance's successor must come strictly after: the occurrence the
 * instance stands for (its occurrence_at), which stays put when its due is moved. For a
 * timed rule without BYHOUR/BYMINUTE (one occurrence a day, at DTSTART's time of day) it is
 * the end of that local day, so that re-anchoring the series' time (a new time of day)
 * cannot bring the same day back. Next = first occurrence after laterKey(due, floor).
 */
export function occurrenceFloor(series: Series, occurrence: Date | null): string | null {
  if (!occurrence) return null;
  const p = (n: number) => String(n).padStart(2, '0');
  const iso = occurrence.toISOString();
  // An all-day occurrence is stored at 00:00 UTC of its date (occurrenceAt).
  if (isAllDay(series.dtstart) && iso.endsWith('T00:00:00.000Z')) return iso.slice(0, 10);
  const w = wallTime(occurrence, series.timeZone ?? 'UTC');
  const date = `${w.year}-${p(w.month)}-${p(w.day)}`;
  if (isAllDay(series.dtstart)) return date;
  const parts = parseRule(series.rule);
  if (parts.byHour || parts.byMinute) return `${date}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
  return `${date}T23:59:59`;
}

/** An occurrence is past when its instant is not after now, or (all-day) its date is before today in the zone. */
export function isPast(o: Occurrence, now: Date, timeZone: string | null): boolean {
  if (o.due_at) return new Date(o.due_at).getTime() <= now.getTime();
  const today = localKeyOfDue({ due_date: null, due_at: now.toISOString(), time_zone: timeZone }) as string;
  return (o.due_date as string) < today.slice(0, 10);
}

/** The occurrence key stored per instance (unique per series): the due instant, or 00:00 UTC of an all-day date. */
export function occurrenceAt(due: { due_date: string | null; due_at: string | null }): Date {
  return new Date(due.due_at ?? `${due.due_date}T00:00:00Z`);
}
