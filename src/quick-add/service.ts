// Quick add behind POST /tasks: `quick` text fills the fields the request leaves out
// (explicit fields win; tags are merged). Pure; the task service calls it with the user's
// zone and its clock. Reminders found in the text ("remind me 1 day before") become the
// task's reminders unless the request gives its own `reminders`.
import { offsetFromSeconds } from '../reminders/service.js';
import { parseQuickAdd, type QuickAddResult } from './parse.js';

export { parseQuickAdd, type QuickAddResult } from './parse.js';

interface QuickAddable {
  title?: string | undefined;
  quick?: string | undefined;
  due_date?: string | null | undefined;
  due_at?: string | null | undefined;
  time_zone?: string | null | undefined;
  priority?: QuickAddResult['priority'] | undefined;
  tags?: string[] | undefined;
  recurrence?: unknown;
  reminders?: ReadonlyArray<{ offset?: string | undefined }> | undefined;
}

export function applyQuickAdd<T extends QuickAddable>(input: T, context: { now: Date; timeZone: string }): T & { title: string } {
  if (!input.quick) return input as T & { title: string };
  const parsed = parseQuickAdd(input.quick, context);
  const dueGiven = input.due_date !== undefined || input.due_at !== undefined;
  return {
    ...input,
    title: input.title ?? (parsed.title || input.quick),
    ...(dueGiven ? {} : { due_date: parsed.due_date, due_at: parsed.due_at, time_zone: input.time_zone ?? parsed.time_zone }),
    priority: input.priority ?? (parsed.priority === 'none' ? undefined : parsed.priority),
    tags: [...(input.tags ?? []), ...parsed.tags],
    recurrence:
      input.recurrence !== undefined || !parsed.recurrence
        ? input.recurrence
        : { rule: parsed.recurrence.rule, mode: parsed.recurrence.mode, exdates: [], catch_up: false },
    // "1 day before" is a calendar day (P1D), as the reminders API reads it.
    reminders:
      input.reminders !== undefined || parsed.reminders.length === 0
        ? input.reminders
        : parsed.reminders.map((r) => ({ offset: offsetFromSeconds(r.before_seconds), channel: 'all' as const })),
  };
}
