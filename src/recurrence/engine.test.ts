import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationFailed } from '../errors.js';
import { checkSeries, iterate, nextInstance, occurrenceAt, occurrenceFloor, occurrences, type Series } from './engine.js';

const ny = (rule: string, dtstart: string, exdates: string[] = []): Series => ({
  rule,
  dtstart,
  timeZone: 'America/New_York',
  exdates,
});
const days = (series: Series, count = 200) => occurrences(series, null, count).map((o) => o.local.slice(0, 10));

// RFC 5545 §3.8.5.3 examples (DTSTART in America/New_York), those a task can use (no sub-daily FREQ).
const RFC_EXAMPLES: Array<[string, string, string, string[] | { count: number; first: string; last: string }]> = [
  [
    'Daily for 10 occurrences',
    'FREQ=DAILY;COUNT=10',
    '1997-09-02T09:00:00',
    [
      '1997-09-02',
      '1997-09-03',
      '1997-09-04',
      '1997-09-05',
      '1997-09-06',
      '1997-09-07',
      '1997-09-08',
      '1997-09-09',
      '1997-09-10',
      '1997-09-11',
    ],
  ],
  [
    'Daily until December 24, 1997',
    'FREQ=DAILY;UNTIL=19971224T000000Z',
    '1997-09-02T09:00:00',
    { count: 113, first: '1997-09-02', last: '1997-12-23' },
  ],
  [
    'Every 10 days, 5 occurrences',
    'FREQ=DAILY;INTERVAL=10;COUNT=5',
    '1997-09-02T09:00:00',
    ['1997-09-02', '1997-09-12', '1997-09-22', '1997-10-02', '1997-10-12'],
  ],
  [
    'Every day in January, for 3 years',
    'FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA',
    '1998-01-01T09:00:00',
    { count: 93, first: '1998-01-01', last: '2000-01-31' },
  ],
  [
    'Weekly for 10 occurrences',
    'FREQ=WEEKLY;COUNT=10',
    '1997-09-02T09:00:00',
    [
      '1997-09-02',
      '1997-09-09',
      '1997-09-16',
      '1997-09-23',
      '1997-09-30',
      '1997-10-07',
      '1997-10-14',
      '1997-10-21',
      '1997-10-28',
      '1997-11-04',
    ],
  ],
  [
    'Weekly on Tuesday and Thursday for five weeks',
    'FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH',
    '1997-09-02T09:00:00',
    [
      '1997-09-02',
      '1997-09-04',
      '1997-09-09',
      '1997-09-11',
      '1997-09-16',
      '1997-09-18',
      '1997-09-23',
      '1997-09-25',
      '1997-09-30',
      '1997-10-02',
    ],
  ],
  [
    'Every other week on Monday, Wednesday, and Friday until December 24, 1997',
    'FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR',
    '1997-09-01T09:00:00',
    { count: 25, first: '1997-09-01', last: '1997-12-22' },
  ],
  [
    'Monthly on the first Friday for 10 occurrences',
    'FREQ=MONTHLY;COUNT=10;BYDAY=1FR',
    '1997-09-05T09:00:00',
    [
      '1997-09-05',
      '1997-10-03',
      '1997-11-07',
      '1997-12-05',
      '1998-01-02',
      '1998-02-06',
      '1998-03-06',
      '1998-04-03',
      '1998-05-01',
      '1998-06-05',
    ],
  ],
  [
    'Every other month on the first and last Sunday, 10 occurrences',
    'FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU',
    '1997-09-07T09:00:00',
    [
      '1997-09-07',
      '1997-09-28',
      '1997-11-02',
      '1997-11-30',
      '1998-01-04',
      '1998-01-25',
      '1998-03-01',
      '1998-03-29',
      '1998-05-03',
      '1998-05-31',
    ],
  ],
  [
    'Monthly on the second-to-last Monday for 6 months',
    'FREQ=MONTHLY;COUNT=6;BYDAY=-2MO',
    '1997-09-22T09:00:00',
    ['1997-09-22', '1997-10-20', '1997-11-17', '1997-12-22', '1998-01-19', '1998-02-16'],
  ],
  [
    'Monthly on the 2nd and 15th, 10 occurrences',
    'FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15',
    '1997-09-02T09:00:00',
    [
      '1997-09-02',
      '1997-09-15',
      '1997-10-02',
      '1997-10-15',
      '1997-11-02',
      '1997-11-15',
      '1997-12-02',
      '1997-12-15',
      '1998-01-02',
      '1998-01-15',
    ],
  ],
  [
    'Monthly on the first and last day, 10 occurrences',
    'FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1',
    '1997-09-30T09:00:00',
    [
      '1997-09-30',
      '1997-10-01',
      '1997-10-31',
      '1997-11-01',
      '1997-11-30',
      '1997-12-01',
      '1997-12-31',
      '1998-01-01',
      '1998-01-31',
      '1998-02-01',
    ],
  ],
  [
    'Yearly in June and July for 10 occurrences',
    'FREQ=YEARLY;COUNT=10;BYMONTH=6,7',
    '1997-06-10T09:00:00',
    [
      '1997-06-10',
      '1997-07-10',
      '1998-06-10',
      '1998-07-10',
      '1999-06-10',
      '1999-07-10',
      '2000-06-10',
      '2000-07-10',
      '2001-06-10',
      '2001-07-10',
    ],
  ],
  [
    'Every Friday the 13th (DTSTART excluded)',
    'FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13',
    '1997-09-02T09:00:00',
    ['1998-02-13', '1998-03-13', '1998-11-13', '1999-08-13', '2000-10-13'],
  ],
  [
    'US presidential election day',
    'FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8',
    '1996-11-05T09:00:00',
    ['1996-11-05', '2000-11-07', '2004-11-02'],
  ],
  [
    'The third instance of Tuesday, Wednesday or Thursday, for 3 months',
    'FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3',
    '1997-09-04T09:00:00',
    ['1997-09-04', '1997-10-07', '1997-11-06'],
  ],
  [
    'The second-to-last weekday of the month',
    'FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2',
    '1997-09-29T09:00:00',
    ['1997-09-29', '1997-10-30', '1997-11-27', '1997-12-30', '1998-01-29', '1998-02-26', '1998-03-30'],
  ],
  [
    'Monday of week number 20',
    'FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO',
    '1997-05-12T09:00:00',
    ['1997-05-12', '1998-05-11', '1999-05-17'],
  ],
  [
    'Every Thursday in March',
    'FREQ=YEARLY;BYMONTH=3;BYDAY=TH',
    '1997-03-13T09:00:00',
    ['1997-03-13', '1997-03-20', '1997-03-27', '1998-03-05', '1998-03-12', '1998-03-19', '1998-03-26'],
  ],
  [
    'WKST=MO changes the weeks',
    'FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO',
    '1997-08-05T09:00:00',
    ['1997-08-05', '1997-08-10', '1997-08-19', '1997-08-24'],
  ],
  [
    'WKST=SU changes the weeks',
    'FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU',
    '1997-08-05T09:00:00',
    ['1997-08-05', '1997-08-17', '1997-08-19', '1997-08-31'],
  ],
  [
    'An invalid date (30 February) is skipped, not counted',
    'FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5',
    '2007-01-15T09:00:00',
    ['2007-01-15', '2007-01-30', '2007-02-15', '2007-03-15', '2007-03-30'],
  ],
];

describe('RFC 5545 §3.8.5.3 examples', () => {
  it.each(RFC_EXAMPLES)('%s', (_name, rule, dtstart, expected) => {
    const series = ny(rule, dtstart);
    if (Array.isArray(expected)) {
      expect(days(series, expected.length)).toEqual(expected);
    } else {
      const all = days(series, 500);
      expect({ count: all.length, first: all[0], last: all.at(-1) }).toEqual(expected);
    }
    // Every occurrence is at 09:00 New York time, EDT or EST alike.
    for (const o of occurrences(series, null, 12)) expect(o.local.slice(11)).toBe('09:00:00');
  });
});

const instants = (series: Series, count: number) => occurrences(series, null, count).map((o) => o.due_at);

describe('DST: 09:00 local stays 09:00 local', () => {
  it.each([
    ['Europe/Berlin', '2026-03-28T09:00:00', ['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z']],
    ['Europe/Berlin', '2026-10-24T09:00:00', ['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z']],
    ['America/New_York', '2026-03-07T09:00:00', ['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z']],
    ['America/New_York', '2026-10-31T09:00:00', ['2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z']],
    ['Australia/Sydney', '2026-04-04T09:00:00', ['2026-04-03T22:00:00.000Z', '2026-04-04T23:00:00.000Z']],
    ['Australia/Sydney', '2026-10-03T09:00:00', ['2026-10-02T23:00:00.000Z', '2026-10-03T22:00:00.000Z']],
  ])('%s from %s', (timeZone, dtstart, expected) => {
    expect(instants({ rule: 'FREQ=DAILY', dtstart, timeZone, exdates: [] }, 2)).toEqual(expected);
  });

  it.each([
    // Spring forward: the skipped local time moves forward by the gap (02:30 → 03:30).
    ['Europe/Berlin', '2026-03-28T02:30:00', '2026-03-29T01:30:00.000Z'],
    ['America/New_York', '2026-03-07T02:30:00', '2026-03-08T07:30:00.000Z'],
    ['Australia/Sydney', '2026-10-03T02:30:00', '2026-10-03T16:30:00.000Z'],
    // Fall back: an ambiguous local time is the first (earlier) of the two.
    ['America/New_York', '2026-10-31T01:30:00', '2026-11-01T05:30:00.000Z'],
    ['Europe/Berlin', '2026-10-24T02:30:00', '2026-10-25T00:30:00.000Z'],
    ['Australia/Sydney', '2026-04-04T02:30:00', '2026-04-04T15:30:00.000Z'],
  ])('%s: a local time that does not exist or repeats (%s daily) is neither lost nor doubled', (timeZone, dtstart, second) => {
    const [a, b, c] = occurrences({ rule: 'FREQ=DAILY', dtstart, timeZone, exdates: [] }, null, 3);
    expect(b?.due_at).toBe(second);
    // The next day is back at the original local time.
    expect(c?.local.slice(11)).toBe(dtstart.slice(11));
    expect(a?.local.slice(11)).toBe(dtstart.slice(11));
  });

  it('an all-day weekly series stays all-day across DST', () => {
    const got = occurrences({ rule: 'FREQ=WEEKLY', dtstart: '2026-03-22', timeZone: 'Europe/Berlin', exdates: [] }, null, 3);
    expect(got).toEqual([
      { local: '2026-03-22', due_date: '2026-03-22', due_at: null },
      { local: '2026-03-29', due_date: '2026-03-29', due_at: null },
      { local: '2026-04-05', due_date: '2026-04-05', due_at: null },
    ]);
  });

  it.each(['Europe/Berlin', 'America/New_York', 'Australia/Sydney'])(
    'after_completion mode in %s keeps the local time',
    (timeZone) => {
      const series: Series = { rule: 'FREQ=DAILY', dtstart: '2026-01-10T09:00:00', timeZone, exdates: [] };
      for (const completedAt of [
        '2026-03-28T20:00:00Z',
        '2026-04-04T12:00:00Z',
        '2026-10-03T12:00:00Z',
        '2026-10-31T20:00:00Z',
      ]) {
        const { next } = nextInstance({
          series,
          mode: 'after_completion',
          catchUp: false,
          current: '2026-01-10T09:00:00',
          completedAt: new Date(completedAt),
          now: new Date(completedAt),
          instancesSoFar: 1,
        });
        expect(next?.local.slice(11)).toBe('09:00:00');
        expect(new Date(next?.due_at as string).getTime()).toBeGreaterThan(new Date(completedAt).getTime());
      }
    },
  );
});

describe('next instance', () => {
  const weekdays: Series = {
    rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
    dtstart: '2026-03-27T09:00:00',
    timeZone: 'Europe/Berlin',
    exdates: [],
  };
  const base = { mode: 'schedule' as const, catchUp: false, instancesSoFar: 1 };

  it('schedule mode: the occurrence after the completed one, across the weekend and DST', () => {
    const at = new Date('2026-03-27T10:00:00Z');
    const r = nextInstance({ ...base, series: weekdays, current: '2026-03-27T09:00:00', completedAt: at, now: at });
    expect(r).toEqual({
      next: { local: '2026-03-30T09:00:00', due_date: null, due_at: '2026-03-30T07:00:00.000Z' },
      skipped: [],
    });
  });

  it('a late completion skips the past occurrences and records them; catch_up keeps the first', () => {
    const at = new Date('2026-04-01T10:00:00Z');
    const late = nextInstance({ ...base, series: weekdays, current: '2026-03-27T09:00:00', completedAt: at, now: at });
    expect(late.next?.local).toBe('2026-04-02T09:00:00');
    expect(late.skipped.map((o) => o.local)).toEqual(['2026-03-30T09:00:00', '2026-03-31T09:00:00', '2026-04-01T09:00:00']);
    const caughtUp = nextInstance({
      ...base,
      catchUp: true,
      series: weekdays,
      current: '2026-03-27T09:00:00',
      completedAt: at,
      now: at,
    });
    expect(caughtUp).toEqual({ next: expect.objectContaining({ local: '2026-03-30T09:00:00' }), skipped: [] });
  });

  it('after COUNT or UNTIL there is no next instance', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const counted = { ...weekdays, rule: 'FREQ=DAILY;COUNT=2' };
    expect(nextInstance({ ...base, series: counted, current: '2026-03-28T09:00:00', completedAt: at, now: at }).next).toBeNull();
    const until = { ...weekdays, rule: 'FREQ=DAILY;UNTIL=20260328' };
    expect(nextInstance({ ...base, series: until, current: '2026-03-27T09:00:00', completedAt: at, now: at }).next?.local).toBe(
      '2026-03-28T09:00:00',
    );
    expect(nextInstance({ ...base, series: until, current: '2026-03-28T09:00:00', completedAt: at, now: at }).next).toBeNull();
    const afterCount = nextInstance({
      ...base,
      mode: 'after_completion',
      instancesSoFar: 2,
      series: counted,
      current: '2026-03-28T09:00:00',
      completedAt: at,
      now: at,
    });
    expect(afterCount.next).toBeNull();
  });

  it('EXDATE removes an occurrence', () => {
    const series = { ...weekdays, exdates: ['2026-03-30T09:00:00'] };
    expect(occurrences(series, '2026-03-27T09:00:00', 2).map((o) => o.local)).toEqual([
      '2026-03-31T09:00:00',
      '2026-04-01T09:00:00',
    ]);
  });
});

describe('rule validation', () => {
  it.each([
    ['', 'is empty'],
    ['FREQ=FOO', 'FREQ=FOO is not one of'],
    ['FREQ=HOURLY', 'at most daily'],
    ['BYDAY=MO', 'FREQ is required'],
    ['FREQ=DAILY;INTERVAL=0', 'INTERVAL must be a positive integer'],
    ['FREQ=DAILY;BYDAY=XX', 'BYDAY value "XX"'],
    ['FREQ=WEEKLY;BYDAY=2MO', 'needs FREQ=MONTHLY or YEARLY'],
    ['FREQ=MONTHLY;BYMONTHDAY=32', 'out of range'],
    ['FREQ=DAILY;BYHOUR=25', 'BYHOUR value "25"'],
    ['FREQ=DAILY;COUNT=2;UNTIL=20270101', 'COUNT or UNTIL'],
    ['FREQ=DAILY;FOO=1', 'unknown rule part FOO'],
    ['FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30', 'never produces a date'],
  ])('%s is rejected: %s', (rule, message) => {
    const check = () => checkSeries({ rule, dtstart: '2026-01-05T09:00:00', timeZone: 'UTC', exdates: [] });
    expect(check).toThrow(ValidationFailed);
    expect(check).toThrow(message);
  });

  it('an all-day series cannot have BYHOUR', () => {
    expect(() => checkSeries({ rule: 'FREQ=DAILY;BYHOUR=9', dtstart: '2026-01-05', timeZone: null, exdates: [] })).toThrow(
      'all-day',
    );
  });
});

describe('property: a series is the same computed at once or instance by instance', () => {
  const rule = fc
    .record({
      freq: fc.constantFrom('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY'),
      interval: fc.integer({ min: 1, max: 4 }),
      byDay: fc.subarray(['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'], { minLength: 0, maxLength: 3 }),
      byMonthDay: fc.subarray([1, 2, 15, 28, -1], { minLength: 0, maxLength: 2 }),
      count: fc.option(fc.integer({ min: 1, max: 15 }), { nil: undefined }),
    })
    .map((r) => {
      const parts = [`FREQ=${r.freq}`, `INTERVAL=${r.interval}`];
      if (r.count) parts.push(`COUNT=${r.count}`);
      if (r.byDay.length) parts.push(`BYDAY=${r.byDay.join(',')}`);
      if (r.byMonthDay.length && r.freq !== 'WEEKLY') parts.push(`BYMONTHDAY=${r.byMonthDay.join(',')}`);
      return { text: parts.join(';'), byDay: r.byDay };
    });
  const zone = fc.constantFrom('Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'UTC');
  const start = fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true });
  const time = fc.constantFrom('', 'T00:30:00', 'T02:30:00', 'T09:00:00', 'T23:15:00');

  it('strictly increasing, matching the rule, none lost or duplicated', () => {
    fc.assert(
      fc.property(rule, zone, start, time, (r, timeZone, date, t) => {
        const series: Series = { rule: r.text, dtstart: date.toISOString().slice(0, 10) + t, timeZone, exdates: [] };
        const atOnce = [...iterateTake(series, 25)];
        const oneByOne: string[] = [];
        let current = atOnce[0]?.local ?? null;
        if (current) oneByOne.push(current);
        while (current && oneByOne.length < atOnce.length) {
          const { next } = nextInstance({
            series,
            mode: 'schedule',
            catchUp: true,
            current,
            completedAt: new Date(0),
            now: new Date(0),
            instancesSoFar: 0,
          });
          current = next?.local ?? null;
          if (current) oneByOne.push(current);
        }
        expect(oneByOne).toEqual(atOnce.map((o) => o.local));
        const keys = atOnce.map((o) => o.local);
        for (let i = 1; i < keys.length; i++) expect((keys[i] as string) > (keys[i - 1] as string)).toBe(true);
        const dayCodes = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
        for (const o of atOnce) {
          if (r.byDay.length) expect(r.byDay).toContain(dayCodes[new Date(`${o.local.slice(0, 10)}T00:00:00Z`).getUTCDay()]);
          if (t) expect(o.local.slice(10)).toBe(t);
        }
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});

describe('property: moving an instance neither repeats nor loses an occurrence', () => {
  const rule = fc.constantFrom(
    'FREQ=DAILY',
    'FREQ=DAILY;INTERVAL=2',
    'FREQ=WEEKLY;BYDAY=MO,TH',
    'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
    'FREQ=MONTHLY;BYDAY=-1FR',
    'FREQ=MONTHLY;BYMONTHDAY=1,15',
    'FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0',
  );
  const zone = fc.constantFrom('Europe/Berlin', 'America/New_York', 'Australia/Sydney');
  const start = fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true });
  const time = fc.constantFrom('', 'T02:30:00', 'T09:00:00');
  const shiftDays = (key: string, days: number) => {
    const d = new Date(`${key.slice(0, 10)}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10) + key.slice(10);
  };

  it('the successor of a moved instance comes after its own occurrence, and is the next one unless moved past it', () => {
    fc.assert(
      fc.property(
        rule,
        zone,
        start,
        time,
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: -20, max: 20 }),
        (r, timeZone, date, t, i, days) => {
          const dtstart = date.toISOString().slice(0, 10) + (r.includes('BYHOUR') ? 'T09:00:00' : t);
          const series: Series = { rule: r, dtstart, timeZone, exdates: [] };
          const [own, following] = occurrences(series, null, i + 2).slice(i);
          if (!own || !following) return;
          const moved = shiftDays(own.local, days);
          const floor = occurrenceFloor(series, occurrenceAt(own));
          for (const mode of ['schedule', 'after_completion'] as const) {
            const completedAt = new Date(own.due_at ?? `${own.local}T12:00:00Z`);
            const { next } = nextInstance({
              series,
              mode,
              catchUp: true,
              current: moved,
              completedAt,
              now: completedAt,
              floor,
              instancesSoFar: 0,
            });
            expect(next && next.local > own.local).toBe(true);
            expect(occurrenceAt(next as NonNullable<typeof next>).getTime()).toBeGreaterThan(occurrenceAt(own).getTime());
            if (mode === 'schedule' && moved < following.local) expect(next?.local).toBe(following.local);
          }
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);
});

function* iterateTake(series: Series, n: number) {
  let i = 0;
  for (const o of iterate(series, null)) {
    if (i++ >= n) return;
    yield o;
  }
}
