// Natural-language quick add (English): "Pay rent every month on the 1st at 9am p1 #finance
// remind me 1 day before" → title, due, recurrence, priority, tags, reminders, and the span
// of the text behind each field (the UI highlights them). A small grammar takes tags,
// priority, reminders and "every …"; chrono-node reads the date/time of what is left. Only
// recognised phrases are taken out: everything else stays in the title. Pure.
import * as chrono from 'chrono-node';
import { isAllDay, isPast, iterate, occurrences } from '../recurrence/engine.js';
import { localToInstant, wallTime, zoneOffsetMinutes } from '../time/zones.js';

export type QuickAddField = 'due' | 'recurrence' | 'priority' | 'tag' | 'reminder';

export interface QuickAddSpan {
  field: QuickAddField;
  start: number;
  end: number;
  text: string;
}

export interface QuickAddResult {
  title: string;
  due_date: string | null;
  due_at: string | null;
  time_zone: string | null;
  recurrence: { rule: string; mode: 'schedule' | 'after_completion' } | null;
  priority: 'none' | 'low' | 'medium' | 'high' | 'urgent';
  tags: string[];
  /** Reminders relative to the due: seconds before it. */
  reminders: Array<{ before_seconds: number }>;
  spans: QuickAddSpan[];
}

const DAY_CODES: Record<string, string> = {
  mon: 'MO',
  monday: 'MO',
  tue: 'TU',
  tues: 'TU',
  tuesday: 'TU',
  wed: 'WE',
  wednesday: 'WE',
  thu: 'TH',
  thur: 'TH',
  thurs: 'TH',
  thursday: 'TH',
  fri: 'FR',
  friday: 'FR',
  sat: 'SA',
  saturday: 'SA',
  sun: 'SU',
  sunday: 'SU',
};
const DAY = '(?:mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)';
const ORDINALS: Record<string, number> = {
  first: 1,
  '1st': 1,
  second: 2,
  '2nd': 2,
  third: 3,
  '3rd': 3,
  fourth: 4,
  '4th': 4,
  last: -1,
};
const NUMBER_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  ten: 10,
  other: 2,
};
const UNIT_SECONDS: Record<string, number> = { minute: 60, min: 60, hour: 3600, day: 86_400, week: 604_800 };
// "every morning/evening/night": the words name the time; these are the times they stand for.
const PART_OF_DAY: Record<string, string> = { morning: '09:00:00', evening: '19:00:00', night: '21:00:00' };
const PRIORITIES = { p1: 'urgent', p2: 'high', p3: 'medium', p4: 'low' } as const;

const amount = (s: string): number => NUMBER_WORDS[s.toLowerCase()] ?? Number(s);
const dayCode = (s: string): string => DAY_CODES[s.toLowerCase()] as string;

// "every …" phrases, tried in order: a pattern and the RRULE it makes of its groups.
const EVERY: Array<[RegExp, (m: RegExpExecArray) => string | null]> = [
  [/^(day|daily|morning|evening|night)$/, () => 'FREQ=DAILY'],
  [/^(weekday|workday|work day|week day)s?$/, () => 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'],
  [/^weekend( day)?s?$/, () => 'FREQ=WEEKLY;BYDAY=SA,SU'],
  [/^(week|weekly)$/, () => 'FREQ=WEEKLY'],
  [/^(month|monthly)$/, () => 'FREQ=MONTHLY'],
  [/^(year|yearly|annually)$/, () => 'FREQ=YEARLY'],
  [
    /^(\d+|two|three|four|five|six|seven|ten|other) (day|week|month|year)s?$/,
    (m) =>
      `FREQ=${{ day: 'DAILY', week: 'WEEKLY', month: 'MONTHLY', year: 'YEARLY' }[m[2] as 'day']};INTERVAL=${amount(m[1] as string)}`,
  ],
  [
    new RegExp(`^(${DAY}(?:(?:, ?| and | ?& ?)${DAY})*)$`),
    (m) => `FREQ=WEEKLY;BYDAY=${[...new Set((m[1] as string).split(/, ?| and | ?& ?/).map(dayCode))].join(',')}`,
  ],
  [
    new RegExp(`^(first|1st|second|2nd|third|3rd|fourth|4th|last) (${DAY})(?: of (?:the|every) month)?$`),
    (m) => `FREQ=MONTHLY;BYDAY=${ORDINALS[m[1] as string]}${dayCode(m[2] as string)}`,
  ],
  // "15th", "month on the 1st", "1st of the month" (a bare number is not a day of the month).
  [
    /^(?:month(?: on)? )?(?:the )?(\d{1,2})(?:st|nd|rd|th|(?= of))(?: of (?:the|every) month)?$/,
    (m) => (Number(m[1]) >= 1 && Number(m[1]) <= 31 ? `FREQ=MONTHLY;BYMONTHDAY=${Number(m[1])}` : null),
  ],
  [/^(?:month(?: on)? )?(?:the )?last day(?: of (?:the|every) month)?$/, () => 'FREQ=MONTHLY;BYMONTHDAY=-1'],
];

/** "every …" → an RRULE; null when the words after "every" are not understood (they then stay in the title). */
function recurrenceRule(phrase: string): string | null {
  const p = phrase.toLowerCase().replace(/\s+/g, ' ').trim();
  for (const [pattern, rule] of EVERY) {
    const m = pattern.exec(p);
    if (m) return rule(m);
  }
  return null;
}

interface Taken {
  spans: QuickAddSpan[];
  mask: string;
}

/** Marks [start, end) as used: recorded as a span and blanked out for the later passes. */
function take(t: Taken, text: string, field: QuickAddField, start: number, end: number) {
  t.spans.push({ field, start, end, text: text.slice(start, end) });
  t.mask = t.mask.slice(0, start) + ' '.repeat(end - start) + t.mask.slice(end);
}

export function parseQuickAdd(text: string, context: { now: Date; timeZone: string }): QuickAddResult {
  const t: Taken = { spans: [], mask: text };
  const tags: string[] = [];
  let priority: QuickAddResult['priority'] = 'none';
  const reminders: QuickAddResult['reminders'] = [];
  let recurrence: QuickAddResult['recurrence'] = null;

  for (const m of text.matchAll(/(^|\s)#([\p{L}\p{N}_-]+)/gu)) {
    const start = (m.index ?? 0) + (m[1] as string).length;
    take(t, text, 'tag', start, start + 1 + (m[2] as string).length);
    if (!tags.some((x) => x.toLowerCase() === (m[2] as string).toLowerCase())) tags.push(m[2] as string);
  }
  for (const m of t.mask.matchAll(/(^|\s)(p[1-4])(?=\s|$)/gi)) {
    const start = (m.index ?? 0) + (m[1] as string).length;
    take(t, text, 'priority', start, start + 2);
    priority = PRIORITIES[(m[2] as string).toLowerCase() as 'p1'];
  }
  const reminder =
    /\b(?:remind me|reminder) (\d+|an?|one|two|three|ten) (minute|min|hour|day|week)s? (?:before|early|earlier)\b/gi;
  for (const m of t.mask.matchAll(reminder)) {
    take(t, text, 'reminder', m.index ?? 0, (m.index ?? 0) + m[0].length);
    reminders.push({ before_seconds: amount(m[1] as string) * (UNIT_SECONDS[(m[2] as string).toLowerCase()] as number) });
  }
  // "every …" / "every! …": try the longest phrase first, up to the next time or keyword.
  const every = /\bevery(!?) /i.exec(t.mask);
  let partOfDay: string | null = null;
  const single = every ? null : /\b(daily|weekly|monthly|yearly|annually)\b/i.exec(t.mask);
  if (single) {
    recurrence = { rule: recurrenceRule(single[1] as string) as string, mode: 'schedule' };
    take(t, text, 'recurrence', single.index, single.index + single[0].length);
  }
  if (every) {
    const rest = t.mask.slice(every.index + every[0].length);
    const words = rest.split(/(\s+)/);
    for (let n = Math.min(words.length, 13); n > 0; n--) {
      const phrase = words.slice(0, n).join('');
      if (!phrase.trim() || phrase !== phrase.trimEnd()) continue;
      const rule = recurrenceRule(phrase);
      if (rule) {
        recurrence = { rule, mode: every[1] ? 'after_completion' : 'schedule' };
        partOfDay = PART_OF_DAY[phrase.trim().toLowerCase()] ?? null;
        take(t, text, 'recurrence', every.index, every.index + every[0].length + phrase.length);
        break;
      }
    }
  }

  // Dates and times: chrono with the user's offset (its named-zone option is silently UTC).
  const offset = zoneOffsetMinutes(context.now, context.timeZone);
  const [found] = chrono.parse(t.mask, { instant: context.now, timezone: offset }, { forwardDate: true });
  let dueLocal: string | null = null;
  let timeOfDay: string | null = null;
  if (found) {
    take(t, text, 'due', found.index, found.index + found.text.trimEnd().length);
    const s = found.start;
    const p2 = (n: number | null) => String(n ?? 0).padStart(2, '0');
    const hasTime = s.isCertain('hour');
    if (hasTime) timeOfDay = `${p2(s.get('hour'))}:${p2(s.get('minute'))}:00`;
    const hasDay = s.isCertain('day') || s.isCertain('weekday') || !hasTime;
    if (hasDay) dueLocal = `${s.get('year')}-${p2(s.get('month'))}-${p2(s.get('day'))}${timeOfDay ? `T${timeOfDay}` : ''}`;
  }
  timeOfDay ??= partOfDay;
  if (recurrence) {
    // The first occurrence on or after the given day (else today) is the due date.
    const today = wallTime(context.now, context.timeZone);
    const p2 = (n: number) => String(n).padStart(2, '0');
    const startDay = dueLocal?.slice(0, 10) ?? `${today.year}-${p2(today.month)}-${p2(today.day)}`;
    const dtstart = timeOfDay ? `${startDay}T${timeOfDay}` : startDay;
    // The first occurrence not yet past ("every weekday at 9:30" said at 11:00 → tomorrow).
    let first: string | null = null;
    for (const o of iterate({ rule: recurrence.rule, dtstart, timeZone: context.timeZone, exdates: [] }, null)) {
      if (!isPast(o, context.now, context.timeZone)) {
        first = o.local;
        break;
      }
    }
    dueLocal = first ?? dtstart;
  } else if (!dueLocal && timeOfDay) {
    // A time alone: today at that time, or tomorrow once it has passed.
    const [first] = occurrences(
      {
        rule: 'FREQ=DAILY',
        dtstart: `${localDay(context.now, context.timeZone)}T${timeOfDay}`,
        timeZone: context.timeZone,
        exdates: [],
      },
      null,
      2,
    ).filter((o) => new Date(o.due_at as string) > context.now);
    dueLocal = first?.local ?? null;
  }

  let due_date: string | null = null;
  let due_at: string | null = null;
  if (dueLocal && isAllDay(dueLocal)) due_date = dueLocal;
  else if (dueLocal) {
    const [d, time] = dueLocal.split('T') as [string, string];
    const [y, mo, day] = d.split('-').map(Number) as [number, number, number];
    const [h, mi] = time.split(':').map(Number) as [number, number];
    due_at = localToInstant({ year: y, month: mo, day, hour: h, minute: mi }, context.timeZone).toISOString();
  }
  const title = t.mask
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\s+(on|at|by|due)$/i, '');
  return {
    title,
    due_date,
    due_at,
    time_zone: due_at ? context.timeZone : null,
    recurrence,
    priority,
    tags,
    reminders,
    spans: t.spans.sort((a, b) => a.start - b.start),
  };
}

function localDay(now: Date, timeZone: string): string {
  const w = wallTime(now, timeZone);
  return `${w.year}-${String(w.month).padStart(2, '0')}-${String(w.day).padStart(2, '0')}`;
}
