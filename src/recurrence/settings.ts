// What a task's recurrence becomes when it is set, cleared or its due date changes. Pure:
// the task service calls it inside its transaction. DTSTART is the task's due at the moment
// the rule is set (RFC 5545: the first instance); a rule that cannot occur is a 422.
import type { TaskRecurrence } from '../db/tables.js';
import { ValidationFailed } from '../errors.js';
import { checkSeries, isAllDay, localKeyOfDue } from './engine.js';
import { presetToRule } from './presets.js';
import { formatRule, parseRule } from './rule.js';
import type { RecurrenceInput } from './schema.js';

export interface DueFields {
  due_date: string | null;
  due_at: string | null;
  time_zone: string | null;
}

const needsDue = (field: string): never => {
  throw new ValidationFailed('A recurring task needs a due date', {
    errors: [{ field, message: 'a recurring task needs a due date or time (it is the first occurrence)' }],
  });
};

export function resolveRecurrence(
  current: TaskRecurrence | null,
  input: RecurrenceInput | null | undefined,
  due: DueFields,
): TaskRecurrence | null {
  if (input === null) return null;
  const dtstart = localKeyOfDue(due);
  if (input === undefined) {
    if (!current) return null;
    if (!dtstart) return needsDue('due_date');
    // A new date moves only this occurrence (the next one comes after it and after the
    // occurrence it stands for: engine.occurrenceFloor). A new time of day moves the series'
    // time: DTSTART keeps its date (COUNT and INTERVAL still count from it), takes the time.
    if (isAllDay(current.dtstart) === isAllDay(dtstart)) return retimed(current, dtstart);
    // A switch between all-day and timed re-anchors the series on the new due.
    const exdates = normalizeExdates(current.exdates, dtstart);
    checkSeries({ rule: current.rule, dtstart, timeZone: due.time_zone, exdates });
    return { ...current, dtstart, exdates };
  }
  if (!dtstart) return needsDue('recurrence');
  const rule = formatRule(parseRule(input.rule ?? presetToRule(input.preset as NonNullable<RecurrenceInput['preset']>)));
  const exdates = normalizeExdates(input.exdates, dtstart);
  checkSeries({ rule, dtstart, timeZone: due.time_zone, exdates });
  return { rule, mode: input.mode, dtstart, exdates, catch_up: input.catch_up };
}

/**
 * The series at the time of day of `due` (a timed local key). Unchanged for all-day series,
 * for the same time, and for rules that set the time themselves (BYHOUR/BYMINUTE).
 */
function retimed(current: TaskRecurrence, due: string): TaskRecurrence {
  const [from, to] = [current.dtstart.slice(10), due.slice(10)];
  if (isAllDay(due) || from === to) return current;
  const parts = parseRule(current.rule);
  if (parts.byHour || parts.byMinute) return current;
  // Excluded dates follow the series' time (a timed EXDATE names that day's occurrence).
  const exdates = [...new Set(current.exdates.map((d) => (d.slice(10) === from ? `${d.slice(0, 10)}${to}` : d)))].sort();
  return { ...current, dtstart: `${current.dtstart.slice(0, 10)}${to}`, exdates };
}

/** Exdates in the series' key form: a date for all-day; for timed, seconds added, and a bare date means that day's occurrence. */
function normalizeExdates(exdates: readonly string[], dtstart: string): string[] {
  const out = exdates.map((d) => {
    if (isAllDay(dtstart)) return d.slice(0, 10);
    if (isAllDay(d)) return `${d}${dtstart.slice(10)}`;
    return d.length === 16 ? `${d}:00` : d;
  });
  return [...new Set(out)].sort();
}
