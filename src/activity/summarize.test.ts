import { describe, expect, it } from 'vitest';
import { summarizeEvent } from './summarize.js';

const utc = { timeZone: 'UTC' };
const updated = (before: Record<string, unknown>, after: Record<string, unknown>) => ({
  type: 'task.updated',
  data: { before, after },
});

describe('summarizeEvent', () => {
  it('names the task in lifecycle events, from the data or the looked-up title', () => {
    expect(summarizeEvent({ type: 'task.created', data: { title: 'Pay rent' } }, utc)).toBe("Created 'Pay rent'");
    expect(summarizeEvent({ type: 'task.deleted', data: { title: 'Pay rent' } }, utc)).toBe("Deleted 'Pay rent'");
    expect(summarizeEvent({ type: 'task.restored', data: { title: 'Pay rent' } }, utc)).toBe("Restored 'Pay rent'");
    expect(summarizeEvent({ type: 'task.completed', data: {} }, { ...utc, taskTitle: 'Pay rent' })).toBe("Completed 'Pay rent'");
    expect(summarizeEvent({ type: 'task.reopened', data: {} }, { ...utc, taskTitle: 'Pay rent' })).toBe("Reopened 'Pay rent'");
  });

  it('still reads when the title is unknown', () => {
    expect(summarizeEvent({ type: 'task.completed', data: {} }, utc)).toBe('Completed a task');
  });

  it('describes renames, priorities and descriptions', () => {
    expect(summarizeEvent(updated({ title: 'a' }, { title: 'b' }), { ...utc, taskTitle: 'b' })).toBe("Renamed 'a' to 'b'");
    expect(summarizeEvent(updated({ priority: 'low' }, { priority: 'high' }), utc)).toBe('Changed priority from low to high');
    expect(summarizeEvent(updated({ description: '' }, { description: 'x' }), utc)).toBe('Added a description');
    expect(summarizeEvent(updated({ description: 'x' }, { description: 'y' }), utc)).toBe('Edited the description');
  });

  it('names the task once, in the first phrase, when it was not renamed', () => {
    expect(
      summarizeEvent(updated({ priority: 'low', tags: [] }, { priority: 'high', tags: ['work'] }), {
        ...utc,
        taskTitle: 'Pay rent',
      }),
    ).toBe("Changed priority of 'Pay rent' from low to high and added tag work");
  });

  it('lists added and removed tags, ignoring case-only changes', () => {
    expect(summarizeEvent(updated({ tags: ['home'] }, { tags: ['home', 'work'] }), utc)).toBe('Added tag work');
    expect(summarizeEvent(updated({ tags: ['home', 'work'] }, { tags: ['work'] }), utc)).toBe('Removed tag home');
    expect(summarizeEvent(updated({ tags: ['a'] }, { tags: ['b', 'c', 'd'] }), utc)).toBe(
      'Added tags b, c and d and removed tag a',
    );
    expect(summarizeEvent(updated({ tags: ['Work'] }, { tags: ['work'] }), { ...utc, taskTitle: 'x' })).toBe("Edited 'x'");
  });

  it('moves, sets and clears all-day due dates without shifting the day', () => {
    const berlinNight = { timeZone: 'Pacific/Kiritimati' };
    expect(summarizeEvent(updated({ due_date: '2026-12-01' }, { due_date: '2026-12-03' }), berlinNight)).toBe(
      'Moved due date from 1 Dec 2026 to 3 Dec 2026',
    );
    expect(summarizeEvent(updated({ due_date: null }, { due_date: '2026-12-03' }), utc)).toBe('Set the due date to 3 Dec 2026');
    expect(summarizeEvent(updated({ due_date: '2026-12-03' }, { due_date: null }), utc)).toBe('Cleared the due date');
  });

  it("shows due times in the reader's time zone, across DST", () => {
    const change = updated(
      { due_at: '2026-03-28T08:00:00.000Z', time_zone: 'UTC' },
      { due_at: '2026-03-30T07:00:00.000Z', time_zone: 'Europe/Berlin' },
    );
    // Berlin is UTC+1 before 29 March 2026 and UTC+2 after.
    expect(summarizeEvent(change, { timeZone: 'Europe/Berlin' })).toBe(
      'Moved due date from 28 Mar 2026, 09:00 to 30 Mar 2026, 09:00',
    );
    expect(summarizeEvent(change, { timeZone: 'America/New_York' })).toBe(
      'Moved due date from 28 Mar 2026, 04:00 to 30 Mar 2026, 03:00',
    );
  });

  it('reads a switch between an all-day date and a due time, and a cleared due time', () => {
    expect(
      summarizeEvent(
        updated(
          { due_date: '2026-12-01', due_at: null, time_zone: null },
          { due_date: null, due_at: '2026-12-02T15:30:00Z', time_zone: 'UTC' },
        ),
        utc,
      ),
    ).toBe('Moved due date from 1 Dec 2026 to 2 Dec 2026, 15:30');
    expect(
      summarizeEvent(updated({ due_at: '2026-12-02T15:30:00Z', time_zone: 'UTC' }, { due_at: null, time_zone: null }), utc),
    ).toBe('Cleared the due date');
    expect(summarizeEvent(updated({ time_zone: 'UTC' }, { time_zone: 'Asia/Tokyo' }), utc)).toBe(
      'Changed the time zone from UTC to Asia/Tokyo',
    );
  });

  it('summarizes tag, list and account events, and unknown types by their name', () => {
    expect(summarizeEvent({ type: 'tag.created', data: { name: 'work' } }, utc)).toBe("Created tag 'work'");
    expect(summarizeEvent({ type: 'list.created', data: { name: 'Inbox' } }, utc)).toBe("Created list 'Inbox'");
    expect(summarizeEvent({ type: 'reminder.fired', data: {} }, utc)).toBe('Reminder fired');
  });

  it('shortens very long titles and survives malformed data', () => {
    const long = 'x'.repeat(200);
    expect(summarizeEvent({ type: 'task.created', data: { title: long } }, utc)).toHaveLength("Created ''".length + 80);
    expect(summarizeEvent({ type: 'task.updated', data: { before: 3, after: null } }, utc)).toBe('Edited a task');
  });
});
