// Time-zone arithmetic on IANA names with the platform's Intl data (no extra library):
// validation, the offset of a zone at an instant, and local wall time → instant.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  if (!timeZone || timeZone.length > 64) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock fields of `instant` in `timeZone`. */
export function wallTime(instant: Date, timeZone: string) {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(instant)
      .map((p) => [p.type, p.value]),
  );
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** Offset of `timeZone` from UTC at `instant`, in minutes (Berlin in summer: +120). */
export function zoneOffsetMinutes(instant: Date, timeZone: string): number {
  const w = wallTime(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/**
 * The instant at which the wall clock in `timeZone` shows the given local time. A local
 * time skipped by a DST jump resolves forward by the jump's length (02:30 on a spring-
 * forward night → 03:30), and an ambiguous one (fall back) resolves to the earlier
 * instant, as RFC 5545 specifies for DTSTART.
 */
export function localToInstant(
  local: { year: number; month: number; day: number; hour: number; minute: number; second?: number },
  timeZone: string,
): Date {
  const naive = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second ?? 0);
  // Try the offsets in force just before and after the naive instant: one of them fits.
  const offsetBefore = zoneOffsetMinutes(new Date(naive - 36 * 3600_000), timeZone);
  const offsetAfter = zoneOffsetMinutes(new Date(naive + 36 * 3600_000), timeZone);
  const candidates = [naive - offsetBefore * 60_000, naive - offsetAfter * 60_000].sort((a, b) => a - b);
  for (const c of candidates) {
    const w = wallTime(new Date(c), timeZone);
    if (
      w.year === local.year &&
      w.month === local.month &&
      w.day === local.day &&
      w.hour === local.hour &&
      w.minute === local.minute
    ) {
      return new Date(c);
    }
  }
  // Nonexistent local time (spring forward): apply the offset from before the gap, which
  // lands the same distance past the gap.
  return new Date(naive - offsetBefore * 60_000);
}
