// Reminder offsets: the presets of the UI (at due, 5m … 1w) or any ISO-8601 duration
// (PT10M, P1DT2H, P2W). Stored as seconds; a day is 86 400 s (a reminder "1 day before"
// a due time across a DST switch lands an hour off in local time, as in most calendars).
import { Temporal } from 'temporal-polyfill';

export const OFFSET_PRESETS: Record<string, number> = {
  at_due: 0,
  '5m': 300,
  '15m': 900,
  '30m': 1800,
  '1h': 3600,
  '1d': 86_400,
  '1w': 604_800,
};

const ISO = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Seconds of a preset or ISO-8601 duration (weeks, days, hours, minutes, seconds), or null. */
export function parseOffset(text: string): number | null {
  if (text in OFFSET_PRESETS) return OFFSET_PRESETS[text] ?? null;
  const m = ISO.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const [w, d, h, min, s] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number];
  const seconds = (((w * 7 + d) * 24 + h) * 60 + min) * 60 + s;
  return seconds <= 366 * 86_400 ? seconds : null;
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
