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
    // A switch between all-day and timed re-anchors the series on the new due.
    if (isAllDay(current.dtstart) === isAllDay(dtstart)) return current;
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

/** Exdates in the series' key form: a date for all-day; for timed, seconds added, and a bare date means that day's occurrence. */
function normalizeExdates(exdates: readonly string[], dtstart: string): string[] {
  const out = exdates.map((d) => {
    if (isAllDay(dtstart)) return d.slice(0, 10);
    if (isAllDay(d)) return `${d}${dtstart.slice(10)}`;
    return d.length === 16 ? `${d}:00` : d;
  });
  return [...new Set(out)].sort();
}
