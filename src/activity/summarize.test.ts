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
    const tagged = (type: string, data: Record<string, unknown>) => summarizeEvent({ type, data }, utc);
    expect(tagged('tag.renamed', { before: { name: 'job' }, after: { name: 'work' } })).toBe("Renamed tag 'job' to 'work'");
    expect(tagged('tag.recolored', { name: 'work', after: { color: '#ff0000' } })).toBe(
      "Changed the color of tag 'work' to #ff0000",
    );
    expect(tagged('tag.recolored', { name: 'work', after: { color: null } })).toBe("Removed the color of tag 'work'");
    expect(tagged('tag.deleted', { name: 'work' })).toBe("Deleted tag 'work'");
    expect(tagged('view.created', { name: 'Focus' })).toBe("Saved view 'Focus'");
    expect(tagged('view.updated', { before: { name: 'Focus' }, after: { name: 'Deep' } })).toBe("Renamed view 'Focus' to 'Deep'");
    expect(tagged('view.updated', { before: { filter: '' }, after: { filter: 'p1' } })).toBe('Changed a saved view');
    expect(tagged('view.deleted', { name: 'Deep' })).toBe("Deleted view 'Deep'");
    expect(summarizeEvent({ type: 'webhook.delivered', data: {} }, utc)).toBe('Webhook delivered');
    expect(summarizeEvent({ type: 'reminder.fired', data: { task_title: 'Pay rent' } }, utc)).toBe("Reminded about 'Pay rent'");
    expect(summarizeEvent({ type: 'reminder.scheduled', data: { remind_at: '2026-03-01T09:30:00Z' } }, utc)).toBe(
      'Set a reminder to 1 Mar 2026, 09:30',
    );
  });

  it('shortens very long titles and survives malformed data', () => {
    const long = 'x'.repeat(200);
    expect(summarizeEvent({ type: 'task.created', data: { title: long } }, utc)).toHaveLength("Created ''".length + 80);
    expect(summarizeEvent({ type: 'task.updated', data: { before: 3, after: null } }, utc)).toBe('Edited a task');
  });
});

describe('recurrence summaries', () => {
  const ctx = { timeZone: 'Europe/Berlin', taskTitle: 'Stand-up' };
  it('says what a rule change, a skip and a generated occurrence did', () => {
    expect(
      summarizeEvent(
        {
          type: 'task.updated',
          data: {
            before: { recurrence: null },
            after: {
              recurrence: {
                rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
                mode: 'schedule',
                dtstart: '2026-03-27T09:00:00',
                exdates: [],
                catch_up: false,
              },
            },
          },
        },
        ctx,
      ),
    ).toBe("Set 'Stand-up' to repeat every weekday at 09:00");
    expect(summarizeEvent({ type: 'task.updated', data: { before: { recurrence: {} }, after: { recurrence: null } } }, ctx)).toBe(
      "Stopped repeating 'Stand-up'",
    );
    expect(summarizeEvent({ type: 'task.occurrence.skipped', data: { from: '2026-12-03T08:00:00.000Z' } }, ctx)).toBe(
      "Skipped occurrence of 3 Dec of 'Stand-up'",
    );
    expect(summarizeEvent({ type: 'task.recurrence.generated', data: { occurrence_at: '2026-12-04' } }, ctx)).toBe(
      "Created the next occurrence for 4 Dec of 'Stand-up'",
    );
  });
});
