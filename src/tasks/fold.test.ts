import { describe, expect, it } from 'vitest';
import type { TaskState } from './domain.js';
import { evolveTask, foldTaskEvents, type TaskEventLike } from './fold.js';

const id = '00000000-0000-4000-8000-000000000001';
const state: TaskState = {
  list_id: '00000000-0000-4000-8000-0000000000aa',
  title: 'Pay rent',
  description: '',
  due_date: '2026-12-01',
  due_at: null,
  time_zone: null,
  priority: 'low',
  tags: ['home'],
  status: 'open',
  completed_at: null,
  recurrence: null,
  series_id: null,
};
let version = 0;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
const event = (type: string, minute: number, data: Record<string, unknown>, v = ++version): TaskEventLike => ({
  type,
  aggregateId: id,
  aggregateVersion: v,
  occurredAt: at(minute),
  data,
});

describe('evolveTask', () => {
  it('given created, updated, completed: the view carries every change, version and times', () => {
    version = 0;
    const task = foldTaskEvents([
      event('task.created', 0, { ...state }),
      event('task.updated', 1, {
        before: { priority: 'low', tags: ['home'] },
        after: { priority: 'high', tags: ['home', 'work'] },
      }),
      event('task.completed', 2, { completed_at: at(2).toISOString() }),
    ]);
    expect(task).toEqual({
      id,
      ...state,
      priority: 'high',
      tags: ['home', 'work'],
      status: 'completed',
      completed_at: at(2).toISOString(),
      created_at: at(0).toISOString(),
      updated_at: at(2).toISOString(),
      version: 3,
    });
  });

  it('reopening clears completed_at; deleting leaves nothing; restoring brings back created_at', () => {
    version = 0;
    const events = [
      event('task.created', 0, { ...state }),
      event('task.completed', 1, { completed_at: at(1).toISOString() }),
      event('task.reopened', 2, { previous_completed_at: at(1).toISOString() }),
    ];
    expect(foldTaskEvents(events)).toMatchObject({ status: 'open', completed_at: null, version: 3 });
    const deleted = [...events, event('task.deleted', 3, { ...state })];
    expect(foldTaskEvents(deleted)).toBeNull();
    const restored = foldTaskEvents([...deleted, event('task.restored', 4, { ...state, created_at: at(0).toISOString() })]);
    expect(restored).toMatchObject({ ...state, created_at: at(0).toISOString(), updated_at: at(4).toISOString(), version: 5 });
  });

  it('ignores events before a creation and unknown keys in payloads', () => {
    expect(evolveTask(null, event('task.updated', 0, { before: {}, after: { title: 'x' } }, 1))).toBeNull();
    const created = evolveTask(null, event('task.created', 0, { ...state, secret: 'no' }, 1));
    expect(created).not.toHaveProperty('secret');
  });

  it('an unknown later event type still advances version and updated_at', () => {
    const created = evolveTask(null, event('task.created', 0, { ...state }, 1));
    expect(evolveTask(created, event('task.reminded', 5, {}, 2))).toMatchObject({ version: 2, updated_at: at(5).toISOString() });
  });
});
