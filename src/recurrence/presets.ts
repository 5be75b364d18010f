// Presets the UI offers (daily, weekdays, weekly on days, monthly on day N or the Nth
// weekday, yearly; every N; until a date or N times) → an RRULE. Pure.
import { formatRule, type RuleParts } from './rule.js';
import type { RecurrencePreset } from './schema.js';

export function presetToRule(p: RecurrencePreset): string {
  const parts: RuleParts = { freq: 'DAILY', interval: p.interval ?? 1 };
  switch (p.freq) {
    case 'daily':
      break;
    case 'weekdays':
      parts.freq = 'WEEKLY';
      parts.byDay = ['MO', 'TU', 'WE', 'TH', 'FR'];
      break;
    case 'weekly':
      parts.freq = 'WEEKLY';
      if (p.days) parts.byDay = [...p.days];
      break;
    case 'monthly':
      parts.freq = 'MONTHLY';
      if (p.month_day !== undefined) parts.byMonthDay = [p.month_day];
      if (p.weekday_of_month) parts.byDay = [`${p.weekday_of_month.n}${p.weekday_of_month.day}`];
      break;
    case 'yearly':
      parts.freq = 'YEARLY';
      break;
  }
  if (p.count !== undefined) parts.count = p.count;
  if (p.until) parts.until = { date: p.until };
  return formatRule(parts);
}
