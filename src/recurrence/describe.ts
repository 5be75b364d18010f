// Human text for a rule ("every month on last Friday at 17:00"), for previews and the
// activity feed. rrule-temporal's English toText does the wording; times are rewritten to
// the 24-hour clock the rest of the API uses. Pure.
import { RRuleTemporal } from 'rrule-temporal';
import { toText } from 'rrule-temporal/totext';
import { Temporal } from 'temporal-polyfill';
import { isAllDay, type Series } from './engine.js';
import { formatRule, parseRule } from './rule.js';

export function describeSeries(series: Pick<Series, 'rule' | 'dtstart'>): string {
  const parts = parseRule(series.rule);
  const allDay = isAllDay(series.dtstart);
  const dtstart = Temporal.PlainDateTime.from(allDay ? `${series.dtstart}T00:00` : series.dtstart).toZonedDateTime('UTC');
  // UNTIL is written by hand below: the library would print it in the floating zone.
  const rule = new RRuleTemporal({ rruleString: formatRule(parts, { withUntil: false }), dtstart });
  let text = toText(rule, 'en', { excludeTzAbbreviation: true });
  text = allDay
    ? text.replace(/ at \d{1,2}(:\d{2})? [AP]M/g, '')
    : text.replace(/(\d{1,2})(?::(\d{2}))? ([AP]M)/g, (_, h: string, m: string | undefined, ap: string) => {
        const hour = (Number(h) % 12) + (ap === 'PM' ? 12 : 0);
        return `${String(hour).padStart(2, '0')}:${m ?? '00'}`;
      });
  if (parts.until)
    text += ` until ${'date' in parts.until ? parts.until.date : parts.until.instant.slice(0, 16).replace('T', ' ')}`;
  return text;
}
