import { describe, expect, it } from 'vitest';
import { NotRevertible, RevertConflict, ValidationFailed } from '../errors.js';
import { diffTask, normalizeTagNames, resolveDue, revertChanges, type TaskState } from './domain.js';

const none = { due_date: null, due_at: null, time_zone: null };

describe('resolveDue', () => {
  it('reads a due_at without offset as local time in the user zone', () => {
    expect(resolveDue(none, { due_at: '2026-12-01T09:00' }, 'Europe/Berlin')).toEqual({
      due_date: null,
      due_at: '2026-12-01T08:00:00.000Z',
      time_zone: 'Europe/Berlin',
    });
  });

  it('prefers the given zone over the user zone for local times', () => {
    expect(resolveDue(none, { due_at: '2026-12-01T09:00', time_zone: 'America/New_York' }, 'Europe/Berlin').due_at).toBe(
      '2026-12-01T14:00:00.000Z',
    );
  });

  it('keeps an explicit offset as the instant and records the zone', () => {
    expect(resolveDue(none, { due_at: '2026-12-01T09:00:00Z' }, 'Asia/Tokyo')).toEqual({
      due_date: null,
      due_at: '2026-12-01T09:00:00.000Z',
      time_zone: 'Asia/Tokyo',
    });
  });

  it('an all-day date replaces a due time, and a due time replaces an all-day date', () => {
    const timed = resolveDue(none, { due_at: '2026-12-01T09:00' }, 'UTC');
    expect(resolveDue(timed, { due_date: '2026-12-05' }, 'UTC')).toEqual({
      due_date: '2026-12-05',
      due_at: null,
      time_zone: 'UTC',
    });
    const allDay = resolveDue(none, { due_date: '2026-12-05' }, 'UTC');
    expect(resolveDue(allDay, { due_at: '2026-12-01T09:00' }, 'UTC').due_date).toBeNull();
  });

  it('clearing the due time clears the zone too', () => {
    const timed = resolveDue(none, { due_at: '2026-12-01T09:00' }, 'Europe/Berlin');
    expect(resolveDue(timed, { due_at: null }, 'Europe/Berlin')).toEqual(none);
  });

  it('changing only the zone keeps the instant', () => {
    const timed = resolveDue(none, { due_at: '2026-12-01T09:00' }, 'Europe/Berlin');
    expect(resolveDue(timed, { time_zone: 'Asia/Tokyo' }, 'Europe/Berlin')).toEqual({ ...timed, time_zone: 'Asia/Tokyo' });
  });

  it('rejects both kinds of due at once, naming the field', () => {
    expect(() => resolveDue(none, { due_date: '2026-12-01', due_at: '2026-12-01T09:00' }, 'UTC')).toThrow(ValidationFailed);
  });
});

describe('normalizeTagNames', () => {
  it('trims, drops a leading #, and de-duplicates case-insensitively keeping the first spelling', () => {
    expect(normalizeTagNames([' Work ', '#work', 'home', '#', 'HOME', 'Errands'])).toEqual(['Work', 'home', 'Errands']);
  });
});

describe('diffTask', () => {
  const base: TaskState = {
    list_id: 'l',
    title: 'a',
    description: '',
    due_date: null,
    due_at: null,
    time_zone: null,
    priority: 'none',
    tags: ['x'],
    status: 'open',
    completed_at: null,
    recurrence: null,
    series_id: null,
  };

  it('lists only the changed fields, before and after', () => {
    expect(diffTask(base, { ...base, title: 'b', tags: ['x', 'y'] })).toEqual({
      before: { title: 'a', tags: ['x'] },
      after: { title: 'b', tags: ['x', 'y'] },
    });
  });

  it('is null when nothing changed (arrays compared by value)', () => {
    expect(diffTask(base, { ...base, tags: ['x'] })).toBeNull();
  });
});

describe('revertChanges', () => {
  const current: TaskState = {
    list_id: 'l',
    title: 'b',
    description: '',
    due_date: null,
    due_at: null,
    time_zone: null,
    priority: 'high',
    tags: ['Work', 'home'],
    status: 'open',
    completed_at: null,
    recurrence: null,
    series_id: null,
  };

  it('sets every changed field back to before while each still holds its after value', () => {
    const changes = { before: { title: 'a', tags: ['home'] }, after: { title: 'b', tags: ['home', 'work'] } };
    expect(revertChanges(current, changes)).toEqual({ ...current, title: 'a', tags: ['home'] });
  });

  it('names every field changed again since, and changes nothing', () => {
    const changes = { before: { title: 'a', priority: 'low' }, after: { title: 'z', priority: 'medium' } };
    expect(() => revertChanges(current, changes)).toThrow(RevertConflict);
    try {
      revertChanges(current, changes);
    } catch (err) {
      expect((err as RevertConflict).errors?.map((e) => e.field)).toEqual(['title', 'priority']);
    }
  });

  it('refuses changes to fields an update never makes', () => {
    expect(() => revertChanges(current, { before: { status: 'completed' }, after: { status: 'open' } })).toThrow(NotRevertible);
  });
});
