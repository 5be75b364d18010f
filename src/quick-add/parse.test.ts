import { describe, expect, it } from 'vitest';
import { parseQuickAdd } from './parse.js';

// Wednesday 25 November 2026, 11:00 in Berlin (UTC+1).
const context = { now: new Date('2026-11-25T10:00:00Z'), timeZone: 'Europe/Berlin' };

interface Expected {
  title: string;
  /** due_at (instant) or due_date, or null. */
  due: string | null;
  /** The RRULE; a leading ! = after_completion mode. */
  rule: string | null;
  priority: string;
  tags: string[];
  /** Seconds before the due. */
  reminders: number[];
}

const PHRASES: Array<[string, Expected]> = [
  [
    'Call mom tomorrow at 5pm',
    { title: 'Call mom', due: '2026-11-26T16:00:00.000Z', rule: null, priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Standup every weekday at 9:30',
    {
      title: 'Standup',
      due: '2026-11-26T08:30:00.000Z',
      rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
      priority: 'none',
      tags: [],
      reminders: [],
    },
  ],
  [
    'Team retro every other week on friday',
    { title: 'Team retro', due: '2026-11-27', rule: 'FREQ=WEEKLY;INTERVAL=2', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Water plants every 3 days',
    { title: 'Water plants', due: '2026-11-25', rule: 'FREQ=DAILY;INTERVAL=3', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Review every! 2 weeks',
    { title: 'Review', due: '2026-11-25', rule: '!FREQ=WEEKLY;INTERVAL=2', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Submit report next friday p2 #work',
    { title: 'Submit report', due: '2026-12-04', rule: null, priority: 'high', tags: ['work'], reminders: [] },
  ],
  [
    'Dentist on Dec 3 at 14:00',
    { title: 'Dentist', due: '2026-12-03T13:00:00.000Z', rule: null, priority: 'none', tags: [], reminders: [] },
  ],
  ['Buy milk', { title: 'Buy milk', due: null, rule: null, priority: 'none', tags: [], reminders: [] }],
  [
    'Book flights by Jan 15 #travel p3',
    { title: 'Book flights', due: '2027-01-15', rule: null, priority: 'medium', tags: ['travel'], reminders: [] },
  ],
  ['Drinks at 6pm', { title: 'Drinks', due: '2026-11-25T17:00:00.000Z', rule: null, priority: 'none', tags: [], reminders: [] }],
  ['Drinks at 9am', { title: 'Drinks', due: '2026-11-26T08:00:00.000Z', rule: null, priority: 'none', tags: [], reminders: [] }],
  [
    'Payday every last friday at 17:00',
    {
      title: 'Payday',
      due: '2026-11-27T16:00:00.000Z',
      rule: 'FREQ=MONTHLY;BYDAY=-1FR',
      priority: 'none',
      tags: [],
      reminders: [],
    },
  ],
  [
    'Gym every mon, wed and fri at 7am',
    {
      title: 'Gym',
      due: '2026-11-27T06:00:00.000Z',
      rule: 'FREQ=WEEKLY;BYDAY=MO,WE,FR',
      priority: 'none',
      tags: [],
      reminders: [],
    },
  ],
  [
    'Backup every sunday',
    { title: 'Backup', due: '2026-11-29', rule: 'FREQ=WEEKLY;BYDAY=SU', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Taxes every year on april 15',
    { title: 'Taxes', due: '2027-04-15', rule: 'FREQ=YEARLY', priority: 'none', tags: [], reminders: [] },
  ],
  ['I may go to the party', { title: 'I may go to the party', due: null, rule: null, priority: 'none', tags: [], reminders: [] }],
  [
    'Email Bob in 2 hours',
    { title: 'Email Bob', due: '2026-11-25T12:00:00.000Z', rule: null, priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Invoice every month on the last day',
    { title: 'Invoice', due: '2026-11-30', rule: 'FREQ=MONTHLY;BYMONTHDAY=-1', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Newsletter every 2nd tuesday',
    { title: 'Newsletter', due: '2026-12-08', rule: 'FREQ=MONTHLY;BYDAY=2TU', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Meet Anna on 2026-12-24 at 10:00 remind me 30 minutes before',
    { title: 'Meet Anna', due: '2026-12-24T09:00:00.000Z', rule: null, priority: 'none', tags: [], reminders: [1800] },
  ],
  [
    'Clean kitchen every day',
    { title: 'Clean kitchen', due: '2026-11-25', rule: 'FREQ=DAILY', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Stretch daily at 8am',
    { title: 'Stretch', due: '2026-11-26T07:00:00.000Z', rule: 'FREQ=DAILY', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Pay bills every 15th',
    { title: 'Pay bills', due: '2026-12-15', rule: 'FREQ=MONTHLY;BYMONTHDAY=15', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Board meeting every first monday at 10am',
    {
      title: 'Board meeting',
      due: '2026-12-07T09:00:00.000Z',
      rule: 'FREQ=MONTHLY;BYDAY=1MO',
      priority: 'none',
      tags: [],
      reminders: [],
    },
  ],
  [
    'Write journal every night',
    { title: 'Write journal', due: '2026-11-25T20:00:00.000Z', rule: 'FREQ=DAILY', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Every weekday standup',
    { title: 'standup', due: '2026-11-25', rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Laundry every weekend',
    { title: 'Laundry', due: '2026-11-28', rule: 'FREQ=WEEKLY;BYDAY=SA,SU', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Haircut every 6 weeks',
    { title: 'Haircut', due: '2026-11-25', rule: 'FREQ=WEEKLY;INTERVAL=6', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Renew passport every 10 years',
    { title: 'Renew passport', due: '2026-11-25', rule: 'FREQ=YEARLY;INTERVAL=10', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Call grandpa every sunday at 11am p2',
    {
      title: 'Call grandpa',
      due: '2026-11-29T10:00:00.000Z',
      rule: 'FREQ=WEEKLY;BYDAY=SU',
      priority: 'high',
      tags: [],
      reminders: [],
    },
  ],
  [
    'Fix bug #work #urgent p1',
    { title: 'Fix bug', due: null, rule: null, priority: 'urgent', tags: ['work', 'urgent'], reminders: [] },
  ],
  ['Read book #personal', { title: 'Read book', due: null, rule: null, priority: 'none', tags: ['personal'], reminders: [] }],
  ['Plan trip p4', { title: 'Plan trip', due: null, rule: null, priority: 'low', tags: [], reminders: [] }],
  [
    'Ship release on friday p1 #work remind me 2 hours before',
    { title: 'Ship release', due: '2026-11-27', rule: null, priority: 'urgent', tags: ['work'], reminders: [7200] },
  ],
  [
    'Order cake next monday remind me 1 week before',
    { title: 'Order cake', due: '2026-11-30', rule: null, priority: 'none', tags: [], reminders: [604800] },
  ],
  [
    'Lunch with Sam today at noon',
    { title: 'Lunch with Sam', due: '2026-11-25T11:00:00.000Z', rule: null, priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Pick up kids today at 15:30',
    { title: 'Pick up kids', due: '2026-11-25T14:30:00.000Z', rule: null, priority: 'none', tags: [], reminders: [] },
  ],
  ['Run 5k tomorrow morning', { title: 'Run 5k', due: '2026-11-26', rule: null, priority: 'none', tags: [], reminders: [] }],
  [
    'Quarterly report every 3 months',
    { title: 'Quarterly report', due: '2026-11-25', rule: 'FREQ=MONTHLY;INTERVAL=3', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Pay credit card every month on the 28th',
    {
      title: 'Pay credit card',
      due: '2026-11-28',
      rule: 'FREQ=MONTHLY;BYMONTHDAY=28',
      priority: 'none',
      tags: [],
      reminders: [],
    },
  ],
  [
    'Take vitamins every day at 8:00 #health',
    {
      title: 'Take vitamins',
      due: '2026-11-26T07:00:00.000Z',
      rule: 'FREQ=DAILY',
      priority: 'none',
      tags: ['health'],
      reminders: [],
    },
  ],
  ['Vote on Nov 30', { title: 'Vote', due: '2026-11-30', rule: null, priority: 'none', tags: [], reminders: [] }],
  [
    'Submit timesheet every friday at 4pm #work p3',
    {
      title: 'Submit timesheet',
      due: '2026-11-27T15:00:00.000Z',
      rule: 'FREQ=WEEKLY;BYDAY=FR',
      priority: 'medium',
      tags: ['work'],
      reminders: [],
    },
  ],
  [
    'Water garden every! 2 days',
    { title: 'Water garden', due: '2026-11-25', rule: '!FREQ=DAILY;INTERVAL=2', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Team lunch every tue and thu at 12:30',
    {
      title: 'Team lunch',
      due: '2026-11-26T11:30:00.000Z',
      rule: 'FREQ=WEEKLY;BYDAY=TU,TH',
      priority: 'none',
      tags: [],
      reminders: [],
    },
  ],
  [
    'Check mail every other day',
    { title: 'Check mail', due: '2026-11-25', rule: 'FREQ=DAILY;INTERVAL=2', priority: 'none', tags: [], reminders: [] },
  ],
  [
    'Mortgage every month on the 5th p1 #finance',
    {
      title: 'Mortgage',
      due: '2026-12-05',
      rule: 'FREQ=MONTHLY;BYMONTHDAY=5',
      priority: 'urgent',
      tags: ['finance'],
      reminders: [],
    },
  ],
  [
    'Anniversary dinner on march 3',
    { title: 'Anniversary dinner', due: '2027-03-03', rule: null, priority: 'none', tags: [], reminders: [] },
  ],
  ['Conference in 3 days', { title: 'Conference', due: '2026-11-28', rule: null, priority: 'none', tags: [], reminders: [] }],
  [
    'Follow up with Ann next week',
    { title: 'Follow up with Ann', due: '2026-12-02', rule: null, priority: 'none', tags: [], reminders: [] },
  ],
  ['Pay rent on the 1st', { title: 'Pay rent on the 1st', due: null, rule: null, priority: 'none', tags: [], reminders: [] }],
  ['p1 call the bank', { title: 'call the bank', due: null, rule: null, priority: 'urgent', tags: [], reminders: [] }],
  [
    'Prepare slides by tomorrow 9am #work',
    { title: 'Prepare slides', due: '2026-11-26T08:00:00.000Z', rule: null, priority: 'none', tags: ['work'], reminders: [] },
  ],
  [
    'Feed cat every day at 7am and 7pm',
    { title: 'Feed cat and 7pm', due: '2026-11-26T06:00:00.000Z', rule: 'FREQ=DAILY', priority: 'none', tags: [], reminders: [] },
  ],
];

describe('quick add', () => {
  it.each(PHRASES)('%s', (phrase, expected) => {
    const r = parseQuickAdd(phrase, context);
    expect({
      title: r.title,
      due: r.due_at ?? r.due_date,
      rule: r.recurrence && (r.recurrence.mode === 'after_completion' ? `!${r.recurrence.rule}` : r.recurrence.rule),
      priority: r.priority,
      tags: r.tags,
      reminders: r.reminders.map((x) => x.before_seconds),
    }).toEqual(expected);
  });

  it('says which span of the text produced each field', () => {
    const phrase = 'Pay rent every month on the 1st at 9am p1 #finance remind me 1 day before';
    const r = parseQuickAdd(phrase, context);
    expect(r.spans.map((s) => [s.field, s.text])).toEqual([
      ['recurrence', 'every month on the 1st'],
      ['due', 'at 9am'],
      ['priority', 'p1'],
      ['tag', '#finance'],
      ['reminder', 'remind me 1 day before'],
    ]);
    for (const s of r.spans) expect(phrase.slice(s.start, s.end)).toBe(s.text);
  });

  it('reads dates in the user’s zone, not UTC (chrono’s zone option is an offset)', () => {
    const ny = parseQuickAdd('Call at 11pm', { now: new Date('2026-11-25T10:00:00Z'), timeZone: 'America/New_York' });
    expect(ny.due_at).toBe('2026-11-26T04:00:00.000Z');
    // Across a DST switch the offset of the due day counts, not today's.
    const berlin = parseQuickAdd('Call on March 30 at 9am', { now: new Date('2026-03-20T10:00:00Z'), timeZone: 'Europe/Berlin' });
    expect(berlin.due_at).toBe('2026-03-30T07:00:00.000Z');
  });
});
