// One human-readable line per event ("Changed priority from low to high"), for the activity
// feed and task history. Pure: the caller passes the user's time zone (due times are shown
// in it) and, for events whose data lacks it, the task's title. Never throws on odd data.
import { describeSeries } from '../recurrence/service.js';
import { wallTime } from '../time/zones.js';

export interface SummarizableEvent {
  type: string;
  data: Record<string, unknown>;
}

export interface SummaryContext {
  /** IANA zone due times are shown in: the reader's. */
  timeZone: string;
  /** The task's title when the event does not carry one (completed, reopened, most updates). */
  taskTitle?: string | undefined;
}

/** How a phrase names the task: " of 'Pay rent'" etc. in the first phrase, empty after. */
interface Ref {
  of: string;
  to: string;
  from: string;
  name: string;
}
type Phrase = (ref: Ref) => string;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MAX_QUOTED = 80;
const SUMMARIZED_FIELDS = new Set([
  'title',
  'priority',
  'due_date',
  'due_at',
  'time_zone',
  'tags',
  'description',
  'list_id',
  'recurrence',
  'series_id',
]);

export function summarizeEvent(event: SummarizableEvent, context: SummaryContext): string {
  const { data } = event;
  const title = text(data.title) ?? context.taskTitle;
  switch (event.type) {
    case 'task.created':
      return `Created ${quoteOr(title, 'a task')}`;
    case 'task.completed':
      return `Completed ${quoteOr(title, 'a task')}`;
    case 'task.reopened':
      return `Reopened ${quoteOr(title, 'a task')}`;
    case 'task.deleted':
      return `Deleted ${quoteOr(title, 'a task')}`;
    case 'task.restored':
      return `Restored ${quoteOr(title, 'a task')}`;
    case 'task.updated':
      return summarizeChanges(record(data.before), record(data.after), context);
    case 'task.occurrence.skipped': {
      const from = formatDay(data.from, context.timeZone);
      return `Skipped occurrence${from ? ` of ${from}` : ''}${title ? ` of ${quote(title)}` : ''}`;
    }
    case 'task.recurrence.generated': {
      const at = formatDay(data.occurrence_at, context.timeZone);
      return `Created the next occurrence${at ? ` for ${at}` : ''}${title ? ` of ${quote(title)}` : ''}`;
    }
    case 'task.recurrence.finished':
      return `Finished repeating${title ? ` ${quote(title)}` : ''} (the rule has no further date)`;
    case 'tag.created':
      return `Created tag ${quoteOr(text(data.name), 'a tag')}`;
    case 'tag.renamed':
      return `Renamed tag ${quote(record(data.before).name)} to ${quote(record(data.after).name)}`;
    case 'tag.recolored': {
      const color = text(record(data.after).color);
      const tag = quoteOr(text(data.name), 'a tag');
      return color ? `Changed the color of tag ${tag} to ${color}` : `Removed the color of tag ${tag}`;
    }
    case 'tag.deleted':
      return `Deleted tag ${quoteOr(text(data.name), 'a tag')}`;
    case 'view.created':
      return `Saved view ${quoteOr(text(data.name), 'a view')}`;
    case 'view.updated': {
      const [before, after] = [record(data.before), record(data.after)];
      return 'name' in after ? `Renamed view ${quote(before.name)} to ${quote(after.name)}` : 'Changed a saved view';
    }
    case 'view.deleted':
      return `Deleted view ${quoteOr(text(data.name), 'a view')}`;
    case 'list.created':
      return `Created list ${quoteOr(text(data.name), 'a list')}`;
    case 'user.registered':
      return 'Created the account';
    case 'api_token.created':
      return `Created API token ${quoteOr(text(data.name), 'a token')}`;
    case 'api_token.revoked':
      return `Revoked API token ${quoteOr(text(data.name), 'a token')}`;
    case 'reminder.scheduled':
    case 'reminder.rescheduled':
    case 'reminder.snoozed': {
      const verb = { 'reminder.scheduled': 'Set', 'reminder.rescheduled': 'Moved', 'reminder.snoozed': 'Snoozed' }[event.type];
      const at = formatDue({ due_at: data.remind_at }, context.timeZone);
      return `${verb} a reminder${title ? ` for ${quote(title)}` : ''}${at ? ` to ${at}` : ''}`;
    }
    case 'reminder.cancelled':
      return `Cancelled a reminder${title ? ` for ${quote(title)}` : ''}`;
    case 'reminder.fired':
      return `Reminded about ${quoteOr(text(data.task_title) ?? title, 'a task')}`;
    default:
      return capitalize(event.type.replaceAll('.', ' ').replaceAll('_', ' '));
  }
}

/** "Renamed 'a' to 'b'", "Changed priority of 'x' from low to high and added tag work", ... */
function summarizeChanges(before: Record<string, unknown>, after: Record<string, unknown>, context: SummaryContext): string {
  // The title names the task in the first phrase only, and only when not renamed.
  const subject = 'title' in after ? undefined : text(context.taskTitle);
  const phrases: Phrase[] = [];
  if ('title' in after) phrases.push(() => `renamed ${quote(before.title)} to ${quote(after.title)}`);
  if ('priority' in after)
    phrases.push(({ of }) => `changed priority${of} from ${text(before.priority)} to ${text(after.priority)}`);
  const due = dueChange(before, after, context.timeZone);
  if (due) phrases.push(due);
  phrases.push(...tagChanges(before.tags, after.tags));
  if ('description' in after) {
    if (!text(before.description)) phrases.push(({ to }) => `added a description${to}`);
    else if (!text(after.description)) phrases.push(({ of }) => `removed the description${of}`);
    else phrases.push(({ of }) => `edited the description${of}`);
  }
  if ('list_id' in after) phrases.push(({ name }) => `moved ${name} to another list`);
  if ('recurrence' in after) phrases.push(recurrenceChange(after.recurrence));
  for (const field of Object.keys(after)) {
    if (!SUMMARIZED_FIELDS.has(field)) phrases.push(({ of }) => `changed ${field.replaceAll('_', ' ')}${of}`);
  }
  if (phrases.length === 0) return `Edited ${quoteOr(subject, 'a task')}`;

  const named: Ref = subject
    ? { of: ` of ${quote(subject)}`, to: ` to ${quote(subject)}`, from: ` from ${quote(subject)}`, name: quote(subject) }
    : { of: '', to: '', from: '', name: 'the task' };
  const plain: Ref = { of: '', to: '', from: '', name: 'the task' };
  const words = phrases.map((phrase, i) => phrase(i === 0 ? named : plain));
  const last = words.pop() as string;
  return capitalize(words.length > 0 ? `${words.join(', ')} and ${last}` : last);
}

/** The due-date phrase, reading due_date/due_at/time_zone together (only changed ones are present). */
function dueChange(before: Record<string, unknown>, after: Record<string, unknown>, timeZone: string): Phrase | null {
  if (!('due_date' in after) && !('due_at' in after)) {
    if (!('time_zone' in after)) return null;
    return ({ of }) =>
      after.time_zone == null
        ? `cleared the time zone${of}`
        : before.time_zone == null
          ? `set the time zone${of} to ${text(after.time_zone)}`
          : `changed the time zone${of} from ${text(before.time_zone)} to ${text(after.time_zone)}`;
  }
  // A side's due is its due_at if present and set, else its due_date; a key absent from the
  // change is unchanged, and by the one-kind-of-due rule then null on both sides.
  const from = formatDue(before, timeZone);
  const to = formatDue(after, timeZone);
  if (from && to) return ({ of }) => `moved due date${of} from ${from} to ${to}`;
  if (to) return ({ of }) => `set the due date${of} to ${to}`;
  return ({ of }) => `cleared the due date${of}`;
}

/** "set to repeat every weekday at 09:00" or "stopped repeating". */
function recurrenceChange(after: unknown): Phrase {
  const rule = record(after);
  if (typeof rule.rule !== 'string' || typeof rule.dtstart !== 'string') return ({ name }) => `stopped repeating ${name}`;
  let description: string;
  try {
    description = describeSeries({ rule: rule.rule, dtstart: rule.dtstart });
  } catch {
    description = rule.rule;
  }
  const every = rule.mode === 'after_completion' ? ' after completion' : '';
  return ({ name }) => `set ${name} to repeat ${description}${every}`;
}

/** "3 Dec" for an instant (in the reader's zone) or a date. */
function formatDay(value: unknown, timeZone: string): string | null {
  const s = text(value);
  if (!s) return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(s)) return `${Number(s.slice(8, 10))} ${MONTHS[Number(s.slice(5, 7)) - 1]}`;
  if (Number.isNaN(Date.parse(s))) return null;
  const w = wallTime(new Date(s), timeZone);
  return `${w.day} ${MONTHS[w.month - 1]}`;
}

function formatDue(side: Record<string, unknown>, timeZone: string): string | null {
  const dueAt = text(side.due_at);
  if (dueAt && !Number.isNaN(Date.parse(dueAt))) {
    const w = wallTime(new Date(dueAt), timeZone);
    return `${w.day} ${MONTHS[w.month - 1]} ${w.year}, ${pad(w.hour)}:${pad(w.minute)}`;
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text(side.due_date) ?? '');
  return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}` : null;
}

function tagChanges(before: unknown, after: unknown): Phrase[] {
  if (!Array.isArray(after)) return [];
  const names = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const had = new Set(names(before).map((t) => t.toLowerCase()));
  const has = new Set(names(after).map((t) => t.toLowerCase()));
  const added = names(after).filter((t) => !had.has(t.toLowerCase()));
  const removed = names(before).filter((t) => !has.has(t.toLowerCase()));
  const phrases: Phrase[] = [];
  if (added.length > 0) phrases.push(({ to }) => `added ${plural('tag', added)} ${list(added)}${to}`);
  if (removed.length > 0) phrases.push(({ from }) => `removed ${plural('tag', removed)} ${list(removed)}${from}`);
  return phrases;
}

const pad = (n: number) => String(n).padStart(2, '0');
const plural = (word: string, items: string[]) => (items.length === 1 ? word : `${word}s`);
const list = (items: string[]) =>
  items.length === 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const record = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : String(v ?? '');
  return `'${s.length > MAX_QUOTED ? `${s.slice(0, MAX_QUOTED - 1)}…` : s}'`;
}

const quoteOr = (v: string | undefined, fallback: string) => (v ? quote(v) : fallback);
