// Reminder offsets: the presets of the UI (at due, 5m … 1w) or any ISO-8601 duration
// (PT10M, P1DT2H, P2W, P1M). `reminderTime` is the ONE definition of "offset before the due
// moment": the month/week/day part is calendar arithmetic in the task's zone (wall time:
// "1 day before 09:00" is 09:00 the day before, across a DST switch too) and the
// hour/minute/second part is exact time, as RFC 5545 (§3.3.6) and Temporal specify.
import { Temporal } from 'temporal-polyfill';

/** The presets as ISO-8601 durations. */
const PRESET_DURATIONS: Record<string, string> = {
  at_due: 'PT0S',
  '5m': 'PT5M',
  '15m': 'PT15M',
  '30m': 'PT30M',
  '1h': 'PT1H',
  '1d': 'P1D',
  '1w': 'P1W',
};

export const OFFSET_PRESETS: Record<string, number> = {
  at_due: 0,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '1d': 86_400,
  '1w': 604_800,
};

const ISO = /^P(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const NOMINAL_MONTH_SECONDS = 30 * 86_400;

/**
 * The nominal length in seconds of a preset or ISO-8601 duration (months, weeks, days,
 * hours, minutes, seconds; a month counted as 30 days, a day as 86 400 s), or null when it
 * is not one or is longer than a year. Nominal: it orders and validates offsets; the
 * reminder's time comes from `reminderTime`.
 */
export function parseOffset(text: string): number | null {
  if (text in OFFSET_PRESETS) return OFFSET_PRESETS[text] ?? null;
  const m = ISO.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const [mo, w, d, h, min, s] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  if (mo > 12) return null;
  const seconds = mo * NOMINAL_MONTH_SECONDS + (((w * 7 + d) * 24 + h) * 60 + min) * 60 + s;
  return seconds <= 366 * 86_400 ? seconds : null;
}

/** A preset or ISO-8601 duration as an ISO-8601 duration ('1d' → 'P1D'); assumes parseOffset accepted it. */
export function offsetDuration(offset: string): string {
  return PRESET_DURATIONS[offset] ?? offset;
}

/** An ISO-8601 duration for a number of seconds, in the largest whole unit (86 400 → P1D: a calendar day). */
export function offsetFromSeconds(seconds: number): string {
  if (seconds === 0) return 'PT0S';
  if (seconds % 604_800 === 0) return `P${seconds / 604_800}W`;
  if (seconds % 86_400 === 0) return `P${seconds / 86_400}D`;
  if (seconds % 3600 === 0) return `PT${seconds / 3600}H`;
  if (seconds % 60 === 0) return `PT${seconds / 60}M`;
  return `PT${seconds}S`;
}

/**
 * When a relative reminder fires: `offset` before `due`, the calendar part (months, weeks,
 * days) in wall time in `timeZone`, the time part in exact time. A wall time that a DST
 * jump skips resolves forward by the jump, an ambiguous one to the earlier instant (as
 * src/time/zones.ts resolves due times).
 */
export function reminderTime(due: Date, timeZone: string, offset: string): Date {
  const duration = Temporal.Duration.from(offsetDuration(offset));
  const zoned = Temporal.Instant.fromEpochMilliseconds(due.getTime()).toZonedDateTimeISO(timeZone);
  // ZonedDateTime.subtract: date part on the wall clock (disambiguation 'compatible'), then exact time.
  return new Date(zoned.subtract(duration).epochMilliseconds);
}

export const SNOOZE_PRESETS = ['5m', '15m', '1h', 'tomorrow'] as const;
export type SnoozePreset = (typeof SNOOZE_PRESETS)[number];

/** When a snoozed reminder fires again: now + 5m/15m/1h, or 09:00 tomorrow in the user's zone. */
export function snoozeUntil(preset: SnoozePreset, now: Date, timeZone: string): Date {
  if (preset === 'tomorrow') {
    const local = Temporal.Instant.fromEpochMilliseconds(now.getTime()).toZonedDateTimeISO(timeZone);
    const next = local.add({ days: 1 }).with({ hour: 9, minute: 0, second: 0, millisecond: 0, microsecond: 0, nanosecond: 0 });
    return new Date(next.epochMilliseconds);
  }
  return new Date(now.getTime() + (OFFSET_PRESETS[preset] ?? 0) * 1000);
}
