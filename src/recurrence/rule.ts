// RRULE text (RFC 5545 §3.3.10) → validated parts, with messages a person can act on.
// rrule-temporal is lenient (BYHOUR=25 and unknown parts pass silently), so the grammar is
// checked here before any rule is stored or expanded. Pure.
import { ValidationFailed } from '../errors.js';

export const FREQUENCIES = ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY'] as const;
export type Frequency = (typeof FREQUENCIES)[number];
export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface RuleParts {
  freq: Frequency;
  interval: number;
  count?: number;
  /** UNTIL as written: a date (YYYY-MM-DD) or a UTC instant (ISO). */
  until?: { date: string } | { instant: string };
  byDay?: string[];
  byMonthDay?: number[];
  byMonth?: number[];
  byYearDay?: number[];
  byWeekNo?: number[];
  bySetPos?: number[];
  byHour?: number[];
  byMinute?: number[];
  wkst?: Weekday;
}

const FIELD = 'recurrence.rule';
const fail = (message: string): never => {
  throw new ValidationFailed(`Invalid recurrence rule: ${message}`, { errors: [{ field: FIELD, message }] });
};

function integers(name: string, value: string, min: number, max: number, allowNegative: boolean): number[] {
  const items = value.split(',');
  return items.map((item) => {
    if (!/^[+-]?\d{1,3}$/.test(item)) fail(`${name} must be a list of integers, got "${item}"`);
    const n = Number(item);
    const abs = Math.abs(n);
    if (n === 0 || abs < min || abs > max || (n < 0 && !allowNegative)) {
      fail(`${name} value ${item} is out of range (${allowNegative ? `±${min}..${max}` : `${min}..${max}`})`);
    }
    return n;
  });
}

function clockValues(name: string, value: string, max: number): number[] {
  return value.split(',').map((item) => {
    if (!/^\d{1,2}$/.test(item) || Number(item) > max) fail(`${name} value "${item}" must be 0..${max}`);
    return Number(item);
  });
}

/** Parses `FREQ=...;...` (an optional leading `RRULE:` is accepted). Throws ValidationFailed (422). */
export function parseRule(text: string): RuleParts {
  const body = text.trim().replace(/^RRULE:/i, '');
  if (!body) fail('is empty');
  if (/[\r\n]/.test(body)) fail('give only the RRULE value (DTSTART comes from the due date)');
  const seen = new Map<string, string>();
  for (const part of body.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) fail(`"${part}" is not NAME=VALUE`);
    const name = part.slice(0, eq).toUpperCase();
    const value = part.slice(eq + 1).toUpperCase();
    if (seen.has(name)) fail(`${name} is given twice`);
    if (!value) fail(`${name} has no value`);
    seen.set(name, value);
  }
  const freq = seen.get('FREQ');
  if (!freq) fail('FREQ is required (DAILY, WEEKLY, MONTHLY or YEARLY)');
  if (['HOURLY', 'MINUTELY', 'SECONDLY'].includes(freq as string))
    fail(`tasks repeat at most daily; FREQ=${freq} is not supported`);
  if (!FREQUENCIES.includes(freq as Frequency)) fail(`FREQ=${freq} is not one of ${FREQUENCIES.join(', ')}`);
  const parts: RuleParts = { freq: freq as Frequency, interval: 1 };
  for (const [name, value] of seen) {
    switch (name) {
      case 'FREQ':
        break;
      case 'INTERVAL':
        if (!/^\d{1,4}$/.test(value) || Number(value) < 1) fail('INTERVAL must be a positive integer');
        parts.interval = Number(value);
        break;
      case 'COUNT':
        if (!/^\d{1,5}$/.test(value) || Number(value) < 1) fail('COUNT must be a positive integer');
        parts.count = Number(value);
        break;
      case 'UNTIL':
        parts.until = parseUntil(value);
        break;
      case 'BYDAY':
        parts.byDay = value.split(',').map((d) => {
          const m = /^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$/.exec(d);
          if (!m) fail(`BYDAY value "${d}" must be a weekday (MO..SU), optionally with an ordinal such as 2TU or -1FR`);
          const ordinal = m?.[1] ? Number(m[1]) : null;
          if (ordinal !== null) {
            if (ordinal === 0 || Math.abs(ordinal) > 53) fail(`BYDAY ordinal in "${d}" must be ±1..53`);
            if (!['MONTHLY', 'YEARLY'].includes(parts.freq)) fail(`BYDAY with an ordinal ("${d}") needs FREQ=MONTHLY or YEARLY`);
            if (parts.freq === 'MONTHLY' && Math.abs(ordinal) > 5) fail(`a month has at most 5 of a weekday ("${d}")`);
          }
          return d;
        });
        break;
      case 'BYMONTHDAY':
        if (parts.freq === 'WEEKLY') fail('BYMONTHDAY cannot be used with FREQ=WEEKLY');
        parts.byMonthDay = integers('BYMONTHDAY', value, 1, 31, true);
        break;
      case 'BYMONTH':
        parts.byMonth = integers('BYMONTH', value, 1, 12, false);
        break;
      case 'BYYEARDAY':
        if (parts.freq !== 'YEARLY') fail('BYYEARDAY needs FREQ=YEARLY');
        parts.byYearDay = integers('BYYEARDAY', value, 1, 366, true);
        break;
      case 'BYWEEKNO':
        if (parts.freq !== 'YEARLY') fail('BYWEEKNO needs FREQ=YEARLY');
        parts.byWeekNo = integers('BYWEEKNO', value, 1, 53, true);
        break;
      case 'BYSETPOS':
        parts.bySetPos = integers('BYSETPOS', value, 1, 366, true);
        break;
      case 'BYHOUR':
        parts.byHour = clockValues('BYHOUR', value, 23);
        break;
      case 'BYMINUTE':
        parts.byMinute = clockValues('BYMINUTE', value, 59);
        break;
      case 'WKST':
        if (!WEEKDAYS.includes(value as Weekday)) fail('WKST must be a weekday (MO..SU)');
        parts.wkst = value as Weekday;
        break;
      case 'BYSECOND':
        fail('BYSECOND is not supported: tasks are due to the minute');
        break;
      default:
        fail(`unknown rule part ${name}`);
    }
  }
  if (parts.count !== undefined && parts.until) fail('give COUNT or UNTIL, not both');
  if (
    parts.bySetPos &&
    !(parts.byDay || parts.byMonthDay || parts.byMonth || parts.byYearDay || parts.byWeekNo || parts.byHour)
  ) {
    fail('BYSETPOS needs another BYxxx part to select from');
  }
  return parts;
}

function parseUntil(value: string): RuleParts['until'] {
  const date = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (date) return { date: `${date[1]}-${date[2]}-${date[3]}` };
  const instant = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!instant) return fail('UNTIL must be a date (20261231) or a UTC date-time (20261231T170000Z)');
  const [, y, mo, d, h, mi, s] = instant;
  return { instant: new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`).toISOString() };
}

/** The parts in the canonical order, as rrule-temporal reads them (UNTIL is applied by the engine). */
export function formatRule(parts: RuleParts, options: { withUntil?: boolean } = {}): string {
  const out = [`FREQ=${parts.freq}`];
  if (parts.interval !== 1) out.push(`INTERVAL=${parts.interval}`);
  if (parts.count !== undefined) out.push(`COUNT=${parts.count}`);
  if (parts.until && options.withUntil !== false) {
    out.push(
      'date' in parts.until
        ? `UNTIL=${parts.until.date.replaceAll('-', '')}`
        : `UNTIL=${parts.until.instant.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`,
    );
  }
  const list = (name: string, values: ReadonlyArray<string | number> | undefined) => {
    if (values?.length) out.push(`${name}=${values.join(',')}`);
  };
  list('BYMONTH', parts.byMonth);
  list('BYWEEKNO', parts.byWeekNo);
  list('BYYEARDAY', parts.byYearDay);
  list('BYMONTHDAY', parts.byMonthDay);
  list('BYDAY', parts.byDay);
  list('BYHOUR', parts.byHour);
  list('BYMINUTE', parts.byMinute);
  list('BYSETPOS', parts.bySetPos);
  if (parts.wkst) out.push(`WKST=${parts.wkst}`);
  return out.join(';');
}
