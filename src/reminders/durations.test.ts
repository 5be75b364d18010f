import { describe, expect, it } from 'vitest';
import { offsetFromSeconds, parseOffset, reminderTime } from './durations.js';

const at = (iso: string) => new Date(iso);

describe('reminderTime', () => {
  it('counts days and weeks on the wall clock of the zone across both DST switches', () => {
    // Berlin: clocks forward 29 March 2026, back 25 October 2026.
    expect(reminderTime(at('2026-03-29T07:00:00Z'), 'Europe/Berlin', '1d').toISOString()).toBe('2026-03-28T08:00:00.000Z');
    expect(reminderTime(at('2026-10-25T08:00:00Z'), 'Europe/Berlin', 'P1D').toISOString()).toBe('2026-10-24T07:00:00.000Z');
    expect(reminderTime(at('2026-04-02T07:00:00Z'), 'Europe/Berlin', '1w').toISOString()).toBe('2026-03-26T08:00:00.000Z');
    // New York: forward 8 March, back 1 November.
    expect(reminderTime(at('2026-03-08T13:00:00Z'), 'America/New_York', 'P1D').toISOString()).toBe('2026-03-07T14:00:00.000Z');
    expect(reminderTime(at('2026-11-01T14:00:00Z'), 'America/New_York', 'P2W').toISOString()).toBe('2026-10-18T13:00:00.000Z');
    expect(reminderTime(at('2026-11-25T14:00:00Z'), 'America/New_York', 'P1M').toISOString()).toBe('2026-10-25T13:00:00.000Z');
  });

  it('counts hours, minutes and seconds in exact time', () => {
    expect(reminderTime(at('2026-03-29T07:00:00Z'), 'Europe/Berlin', 'PT24H').toISOString()).toBe('2026-03-28T07:00:00.000Z');
    // Calendar day first (→ 28 March 09:00 CET = 08:00Z), then one exact hour.
    expect(reminderTime(at('2026-03-29T07:00:00Z'), 'Europe/Berlin', 'P1DT1H').toISOString()).toBe('2026-03-28T07:00:00.000Z');
    expect(reminderTime(at('2026-03-29T01:30:00Z'), 'Europe/Berlin', '1h').toISOString()).toBe('2026-03-29T00:30:00.000Z');
    expect(reminderTime(at('2026-03-29T07:00:00Z'), 'Europe/Berlin', 'at_due').toISOString()).toBe('2026-03-29T07:00:00.000Z');
  });

  it('resolves a skipped wall time forward and an ambiguous one to the earlier instant', () => {
    // 30 March 02:30 CEST minus a day = 29 March 02:30, which does not exist → 03:30 CEST = 01:30Z.
    expect(reminderTime(at('2026-03-30T00:30:00Z'), 'Europe/Berlin', 'P1D').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 26 October 02:30 CET minus a day = 25 October 02:30, twice → the first (CEST) = 00:30Z.
    expect(reminderTime(at('2026-10-26T01:30:00Z'), 'Europe/Berlin', 'P1D').toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });
});

describe('offsets', () => {
  it('accepts presets and ISO durations up to a year, months included', () => {
    expect(parseOffset('1d')).toBe(86_400);
    expect(parseOffset('P1DT2H')).toBe(93_600);
    expect(parseOffset('P1M')).toBe(30 * 86_400);
    expect(parseOffset('P12M')).not.toBeNull();
    expect(parseOffset('P13M')).toBeNull();
    expect(parseOffset('P400D')).toBeNull();
    expect(parseOffset('soon')).toBeNull();
  });

  it('turns seconds into the largest whole unit, days as calendar days', () => {
    expect([0, 90, 1800, 7200, 86_400, 172_800, 604_800].map(offsetFromSeconds)).toEqual([
      'PT0S',
      'PT90S',
      'PT30M',
      'PT2H',
      'P1D',
      'P2D',
      'P1W',
    ]);
  });
});
