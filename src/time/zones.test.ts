import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidTimeZone, localToInstant, wallTime, zoneOffsetMinutes } from './zones.js';

const local = (s: string) => {
  const [d, t] = s.split('T') as [string, string];
  const [year, month, day] = d.split('-').map(Number) as [number, number, number];
  const [hour, minute] = t.split(':').map(Number) as [number, number];
  return { year, month, day, hour, minute };
};

describe('time zones', () => {
  it('accepts IANA names and rejects others', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });

  it.each([
    ['Europe/Berlin', '2026-01-15T09:00', '2026-01-15T08:00:00.000Z'],
    ['Europe/Berlin', '2026-07-15T09:00', '2026-07-15T07:00:00.000Z'],
    ['America/New_York', '2026-01-15T09:00', '2026-01-15T14:00:00.000Z'],
    ['America/New_York', '2026-07-15T09:00', '2026-07-15T13:00:00.000Z'],
    ['Australia/Sydney', '2026-01-15T09:00', '2026-01-14T22:00:00.000Z'],
    ['Australia/Sydney', '2026-07-15T09:00', '2026-07-14T23:00:00.000Z'],
    ['Asia/Kolkata', '2026-07-15T09:00', '2026-07-15T03:30:00.000Z'],
  ])('local time in %s: %s is %s', (zone, wall, instant) => {
    expect(localToInstant(local(wall), zone).toISOString()).toBe(instant);
  });

  it.each([
    // Spring forward: 02:30 does not exist; it moves forward by the gap (RFC 5545 §3.3.5).
    ['Europe/Berlin', '2026-03-29T02:30', '2026-03-29T01:30:00.000Z'],
    ['America/New_York', '2026-03-08T02:30', '2026-03-08T07:30:00.000Z'],
    ['Australia/Sydney', '2026-10-04T02:30', '2026-10-03T16:30:00.000Z'],
    // Fall back: 02:30 happens twice; the first occurrence is chosen.
    ['Europe/Berlin', '2026-10-25T02:30', '2026-10-25T00:30:00.000Z'],
    ['America/New_York', '2026-11-01T01:30', '2026-11-01T05:30:00.000Z'],
    ['Australia/Sydney', '2026-04-05T02:30', '2026-04-04T15:30:00.000Z'],
  ])('DST edge in %s: %s resolves to %s', (zone, wall, instant) => {
    expect(localToInstant(local(wall), zone).toISOString()).toBe(instant);
  });

  it('offset of Berlin is +60 in winter and +120 in summer', () => {
    expect(zoneOffsetMinutes(new Date('2026-01-01T12:00:00Z'), 'Europe/Berlin')).toBe(60);
    expect(zoneOffsetMinutes(new Date('2026-07-01T12:00:00Z'), 'Europe/Berlin')).toBe(120);
  });

  it('wall time → instant → wall time is the identity for any instant (whole minutes)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kathmandu', 'America/St_Johns', 'UTC'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1) / 60_000, max: Date.UTC(2040, 0, 1) / 60_000 }),
        fc.constantFrom(...zones),
        (minutes, zone) => {
          const instant = new Date(minutes * 60_000);
          const wall = wallTime(instant, zone);
          const back = localToInstant(wall, zone);
          // Same wall time; the instant is the same one unless the wall time was ambiguous
          // (fall back), where the earlier of the two is chosen.
          expect(wallTime(back, zone)).toEqual(wall);
          expect(back.getTime()).toBeLessThanOrEqual(instant.getTime());
          expect(instant.getTime() - back.getTime()).toBeLessThanOrEqual(3600_000);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
