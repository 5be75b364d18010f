import { describe, expect, it } from 'vitest';
import { addDays, localDate, overdueAt, resolveRange, startOfDay } from './due-ranges.js';
import { onDate, today } from './filter.js';

describe('due ranges in the reader’s time zone', () => {
  it('"today" is the reader’s calendar day, not UTC’s', () => {
    // 20:00 in New York on 10 March is already 11 March in UTC.
    const now = new Date('2026-03-11T00:00:00Z');
    const range = resolveRange({ from: { day: today(0) }, until: { day: today(1) } }, now, 'America/New_York');
    expect(range).toEqual({
      from: new Date('2026-03-10T04:00:00Z'), // EDT since 8 March
      until: new Date('2026-03-11T04:00:00Z'),
      fromDate: '2026-03-10',
      toDate: '2026-03-10',
    });
    // A task due 23:30 local that evening is inside it.
    const dueAt = new Date('2026-03-11T03:30:00Z');
    expect(dueAt >= (range.from as Date) && dueAt < (range.until as Date)).toBe(true);
  });

  it('a day around a DST change has 23 or 25 hours', () => {
    const springForward =
      startOfDay('2026-03-30', 'Europe/Berlin').getTime() - startOfDay('2026-03-29', 'Europe/Berlin').getTime();
    const fallBack = startOfDay('2026-10-26', 'Europe/Berlin').getTime() - startOfDay('2026-10-25', 'Europe/Berlin').getTime();
    expect(springForward / 3600_000).toBe(23);
    expect(fallBack / 3600_000).toBe(25);
  });

  it('resolves day bounds on given dates and offsets, and instant bounds to the days they touch', () => {
    const now = new Date('2026-06-15T12:00:00Z');
    expect(resolveRange({ until: { day: today(7) } }, now, 'UTC')).toEqual({
      until: new Date('2026-06-22T00:00:00Z'),
      toDate: '2026-06-21',
    });
    expect(resolveRange({ from: { day: onDate('2026-12-24', 1) } }, now, 'Asia/Kolkata')).toEqual({
      from: new Date('2026-12-24T18:30:00Z'),
      fromDate: '2026-12-25',
    });
    expect(
      resolveRange(
        { from: { instant: '2026-06-15T22:30:00Z' }, until: { instant: '2026-06-16T00:00:00Z' } },
        now,
        'Europe/Berlin',
      ),
    ).toEqual({
      from: new Date('2026-06-15T22:30:00Z'),
      until: new Date('2026-06-16T00:00:00Z'),
      fromDate: '2026-06-16',
      toDate: '2026-06-16',
    });
  });

  it('overdue compares timed tasks with now and all-day tasks with today', () => {
    const now = new Date('2026-01-01T02:00:00Z');
    expect(overdueAt(now, 'America/Los_Angeles')).toEqual({ now, today: '2025-12-31' });
  });

  it('does calendar arithmetic across months, years and leap days', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(localDate(new Date('2026-01-01T00:30:00Z'), 'Pacific/Kiritimati')).toBe('2026-01-01');
    expect(localDate(new Date('2026-01-01T00:30:00Z'), 'Pacific/Pago_Pago')).toBe('2025-12-31');
  });
});
