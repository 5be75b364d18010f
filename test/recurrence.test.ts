// Recurring tasks through HTTP: rules set and validated at the API, the next instance made
// by the recurrence consumer from task.completed (idempotently), skip, stop, preview, series.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { toStoredEvent } from '../src/events/append-events.js';
import { generateNextInstance } from '../src/recurrence/consumer.js';
import { foldTaskEvents } from '../src/tasks/service.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { until } from './support/until.js';

describeWithDatabase('recurring tasks', () => {
  let t: TestApp;
  let user: TestUser;
  // The clock jumps around (late completions); tokens signed at its start stay valid.
  const clock = new ManualClock('2026-03-01T00:00:00Z');
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: String(365 * 86_400) } });
    user = await signUp(t.app, { time_zone: 'Europe/Berlin' });
  });
  afterAll(() => t.close());

  const post = (url: string, body?: unknown) => call(t.app, 'POST', `/api/v1${url}`, { token: user.token, body });
  const get = (url: string) => call(t.app, 'GET', `/api/v1${url}`, { token: user.token });
  const createRecurring = async (body: Record<string, unknown>) => {
    const res = await post('/tasks', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const series = async (id: string) => (await get(`/series/${id}`)).body;
  /** Waits until the series has `n` instances (the consumer made the next one). */
  const instances = (seriesId: string, n: number) =>
    until(
      async () => {
        const s = await series(seriesId);
        return s.instances?.length === n ? s : null;
      },
      // Generous: the consumer waits for the cluster-wide xmin horizon, which any long transaction holds back.
      { timeoutMs: 30_000, what: `${n} instances` },
    );
  describe('validation', () => {
    it.each([
      [{ title: 'x', recurrence: { rule: 'FREQ=DAILY' } }, 'recurrence', 'needs a due date'],
      [{ title: 'x', due_date: '2026-04-01', recurrence: { rule: 'FREQ=SOMETIMES' } }, 'recurrence.rule', 'FREQ=SOMETIMES'],
      [
        { title: 'x', due_date: '2026-04-01', recurrence: { rule: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30' } },
        'recurrence.rule',
        'never',
      ],
      [{ title: 'x', due_date: '2026-04-01', recurrence: { rule: 'FREQ=DAILY;BYHOUR=9' } }, 'recurrence.rule', 'all-day'],
      [
        { title: 'x', due_date: '2026-04-01', recurrence: { rule: 'FREQ=DAILY', preset: { freq: 'daily' } } },
        'recurrence.rule',
        'either',
      ],
    ])('an invalid recurrence is a 422 naming the field, and nothing is stored (%#)', async (body, field, message) => {
      const res = await post('/tasks', body);
      expect(res.status).toBe(422);
      const problem = res.body.errors.find((e: { field: string }) => e.field === field);
      expect(problem?.message ?? res.body.detail).toContain(message);
    });

    it('a recurring task cannot lose its due date (422), and the database refuses it too', async () => {
      const task = await createRecurring({ title: 'Water plants', due_date: '2026-04-01', recurrence: { rule: 'FREQ=WEEKLY' } });
      const res = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: user.token, body: { due_date: null } });
      expect(res.status).toBe(422);
      await expect(
        t.app.database.db.updateTable('tasks').set({ due_date: null }).where('id', '=', task.id).execute(),
      ).rejects.toThrow(/tasks_recurrence_requires_due/);
    });
  });

  it('completing a recurring task creates exactly one next instance, at 09:00 local across the DST switch', async () => {
    clock.set('2026-03-27T09:00:00Z');
    const task = await createRecurring({
      title: 'Stand-up',
      description: 'daily',
      due_at: '2026-03-27T09:00',
      priority: 'high',
      tags: ['work'],
      recurrence: { preset: { freq: 'weekdays' } },
    });
    expect(task.recurrence).toEqual({
      rule: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
      mode: 'schedule',
      dtstart: '2026-03-27T09:00:00',
      exdates: [],
      catch_up: false,
    });
    expect(task.series_id).toEqual(expect.any(String));
    expect((await post(`/tasks/${task.id}/complete`)).status).toBe(200);
    const s = await instances(task.series_id, 2);
    const next = s.current;
    expect(next).toMatchObject({
      title: 'Stand-up',
      description: 'daily',
      priority: 'high',
      tags: ['work'],
      status: 'open',
      // Monday after the switch to CEST: 09:00 local is 07:00 UTC (it was 08:00 UTC on Friday).
      due_at: '2026-03-30T07:00:00.000Z',
      time_zone: 'Europe/Berlin',
      recurrence: task.recurrence,
      series_id: task.series_id,
      version: 2,
    });
    const events = await t.app.database.db
      .selectFrom('events')
      .selectAll()
      .where('aggregate_id', '=', next.id)
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.recurrence.generated']);
    // Its derived tag columns were copied too: the tag filter finds it.
    const tagged = await get(`/tasks?filter=${encodeURIComponent('#work')}`);
    expect(tagged.body.items.map((i: { id: string }) => i.id)).toContain(next.id);
    expect(events[1]?.data).toEqual({
      series_id: task.series_id,
      occurrence_at: '2026-03-30T07:00:00.000Z',
      previous_task_id: task.id,
      task_id: next.id,
      skipped: [],
    });

    // Completing twice (reopen, complete again) and replaying the event: still one next instance.
    await post(`/tasks/${task.id}/reopen`);
    await post(`/tasks/${task.id}/complete`);
    const completed = await t.app.database.db
      .selectFrom('events')
      .selectAll()
      .where('aggregate_id', '=', task.id)
      .where('type', '=', 'task.completed')
      .execute();
    for (const row of completed) {
      await t.app.transact((tx) => generateNextInstance(tx, toStoredEvent(row), clock.now()));
    }
    expect((await series(task.series_id)).instances).toHaveLength(2);
  });

  it('a late completion skips to the first occurrence after now and records the skipped dates', async () => {
    clock.set('2026-04-01T08:00:00Z');
    const task = await createRecurring({ title: 'Daily review', due_at: '2026-03-27T18:00', recurrence: { rule: 'FREQ=DAILY' } });
    clock.set('2026-03-30T20:00:00Z'); // 22:00 in Berlin: the 28th, 29th and 30th have passed
    await post(`/tasks/${task.id}/complete`);
    const s = await instances(task.series_id, 2);
    expect(s.current.due_at).toBe('2026-03-31T16:00:00.000Z');
    expect(s.skipped.map((x: { from: string }) => x.from)).toEqual([
      '2026-03-28T17:00:00.000Z',
      '2026-03-29T16:00:00.000Z',
      '2026-03-30T16:00:00.000Z',
    ]);
  });

  it('after_completion counts from the completion (every! 3 days)', async () => {
    clock.set('2026-04-01T08:00:00Z');
    const task = await createRecurring({
      title: 'Clean filter',
      due_date: '2026-04-01',
      recurrence: { rule: 'FREQ=DAILY;INTERVAL=3', mode: 'after_completion' },
    });
    clock.set('2026-04-10T12:00:00Z');
    await post(`/tasks/${task.id}/complete`);
    const s = await instances(task.series_id, 2);
    expect(s.current).toMatchObject({ due_date: '2026-04-13', due_at: null });
  });

  it('when COUNT is reached nothing is created and the series is finished', async () => {
    clock.set('2026-04-01T08:00:00Z');
    const task = await createRecurring({ title: 'Twice', due_date: '2026-04-01', recurrence: { rule: 'FREQ=WEEKLY;COUNT=2' } });
    await post(`/tasks/${task.id}/complete`);
    const s = await instances(task.series_id, 2);
    await post(`/tasks/${s.current.id}/complete`);
    await until(async () => (await series(task.series_id)).status === 'finished', { timeoutMs: 30_000, what: 'finished' });
    const done = await series(task.series_id);
    expect(done.instances).toHaveLength(2);
    expect(done.current).toBeNull();
  });

  it('skip moves the open instance to the next occurrence (task.occurrence.skipped, shaped like a due change)', async () => {
    clock.set('2026-04-01T08:00:00Z');
    const task = await createRecurring({
      title: 'Gym',
      due_at: '2026-04-06T19:00',
      recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO,TH' },
    });
    const res = await post(`/tasks/${task.id}/skip`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: task.id, due_at: '2026-04-09T17:00:00.000Z', status: 'open', version: 2 });
    const [event] = await t.app.database.db
      .selectFrom('events')
      .selectAll()
      .where('aggregate_id', '=', task.id)
      .where('type', '=', 'task.occurrence.skipped')
      .execute();
    expect(event?.data).toEqual({
      series_id: task.series_id,
      from: '2026-04-06T17:00:00.000Z',
      to: '2026-04-09T17:00:00.000Z',
      before: { due_date: null, due_at: '2026-04-06T17:00:00.000Z' },
      after: { due_date: null, due_at: '2026-04-09T17:00:00.000Z' },
    });
    const s = await series(task.series_id);
    expect(s.skipped).toEqual([
      expect.objectContaining({ task_id: task.id, from: '2026-04-06T17:00:00.000Z', to: '2026-04-09T17:00:00.000Z' }),
    ]);
    // A one-off task cannot be skipped.
    const plain = await post('/tasks', { title: 'once', due_date: '2026-04-01' });
    expect((await post(`/tasks/${plain.body.id}/skip`)).status).toBe(409);
  });

  it('stop ends the series and keeps the task; completing it then creates nothing', async () => {
    clock.set('2026-04-01T08:00:00Z');
    const task = await createRecurring({ title: 'Newsletter', due_date: '2026-04-03', recurrence: { rule: 'FREQ=MONTHLY' } });
    const stopped = await post(`/tasks/${task.id}/stop-recurrence`);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ recurrence: null, series_id: task.series_id, due_date: '2026-04-03' });
    await post(`/tasks/${task.id}/complete`);
    // Handle the completion here (as the consumer does, in its own transaction) instead of waiting.
    const [completion] = await t.app.database.db
      .selectFrom('events')
      .selectAll()
      .where('aggregate_id', '=', task.id)
      .where('type', '=', 'task.completed')
      .execute();
    await t.app.transact((tx) => generateNextInstance(tx, toStoredEvent(completion as never), clock.now()));
    const s = await series(task.series_id);
    expect(s).toMatchObject({ status: 'stopped', instances: [expect.objectContaining({ id: task.id })] });
  });

  it('PUT and DELETE …/recurrence set and clear the rule; EXDATE skips a date', async () => {
    clock.set('2026-04-01T08:00:00Z');
    const plain = (await post('/tasks', { title: 'Report', due_date: '2026-04-06' })).body;
    const set = await call(t.app, 'PUT', `/api/v1/tasks/${plain.id}/recurrence`, {
      token: user.token,
      body: { rule: 'FREQ=WEEKLY;BYDAY=MO', exdates: ['2026-04-13'] },
    });
    expect(set.status).toBe(200);
    expect(set.body.recurrence).toMatchObject({ rule: 'FREQ=WEEKLY;BYDAY=MO', dtstart: '2026-04-06', exdates: ['2026-04-13'] });
    await post(`/tasks/${plain.id}/complete`);
    const s = await instances(set.body.series_id, 2);
    expect(s.current.due_date).toBe('2026-04-20');
    const cleared = await call(t.app, 'DELETE', `/api/v1/tasks/${s.current.id}/recurrence`, { token: user.token });
    expect(cleared.status).toBe(200);
    expect(cleared.body.recurrence).toBeNull();
    const bad = await call(t.app, 'PUT', `/api/v1/tasks/${plain.id}/recurrence`, {
      token: user.token,
      body: { rule: 'FREQ=DAILY;BYDAY=1MO' },
    });
    expect(bad.status).toBe(422);
  });

  it('previews a rule: canonical form, description and the next dates', async () => {
    const res = await get(
      '/recurrence/preview?rule=freq%3Dmonthly%3Bbyday%3D-1fr&dtstart=2026-01-30T17:00&tz=America/New_York&count=3',
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      rule: 'FREQ=MONTHLY;BYDAY=-1FR',
      description: 'every month on last Friday at 17:00',
      occurrences: [
        { local: '2026-01-30T17:00:00', due_date: null, due_at: '2026-01-30T22:00:00.000Z' },
        { local: '2026-02-27T17:00:00', due_date: null, due_at: '2026-02-27T22:00:00.000Z' },
        { local: '2026-03-27T17:00:00', due_date: null, due_at: '2026-03-27T21:00:00.000Z' },
      ],
    });
    expect((await get('/recurrence/preview?rule=FREQ%3DNEVER&dtstart=2026-01-30')).status).toBe(422);
  });

  it('quick add parses in the user’s zone, and its result creates a recurring task as is', async () => {
    clock.set('2026-11-25T10:00:00Z');
    const parsed = await post('/tasks/parse', {
      text: 'Pay rent every month on the 1st at 9am p1 #finance remind me 1 day before',
    });
    expect(parsed.status).toBe(200);
    expect(parsed.body).toMatchObject({
      title: 'Pay rent',
      due_at: '2026-12-01T08:00:00.000Z',
      time_zone: 'Europe/Berlin',
      recurrence: { rule: 'FREQ=MONTHLY;BYMONTHDAY=1', mode: 'schedule' },
      priority: 'urgent',
      tags: ['finance'],
      reminders: [{ before_seconds: 86_400 }],
    });
    const { title, due_at, time_zone, recurrence, priority, tags } = parsed.body;
    const task = await createRecurring({ title, due_at, time_zone, recurrence, priority, tags });
    expect(task.recurrence).toMatchObject({ rule: 'FREQ=MONTHLY;BYMONTHDAY=1', dtstart: '2026-12-01T09:00:00' });
    expect((await post('/tasks/parse', { text: '' })).status).toBe(422);
  });

  it('POST /tasks with quick text creates the parsed task; explicit fields win', async () => {
    clock.set('2026-11-25T10:00:00Z');
    const task = await createRecurring({ quick: 'Water plants every! 3 days #home p2', priority: 'low' });
    expect(task).toMatchObject({
      title: 'Water plants',
      due_date: '2026-11-25',
      priority: 'low',
      tags: ['home'],
      recurrence: { rule: 'FREQ=DAILY;INTERVAL=3', mode: 'after_completion', dtstart: '2026-11-25' },
    });
    expect((await post('/tasks', {})).status).toBe(422);
  });

  it('folding the events of generated and skipped instances equals GET /tasks/{id}', async () => {
    clock.set('2026-04-01T08:00:00Z');
    const task = await createRecurring({
      title: 'Fold',
      due_at: '2026-04-02T08:00',
      tags: ['x'],
      recurrence: { rule: 'FREQ=DAILY' },
    });
    await post(`/tasks/${task.id}/skip`);
    await post(`/tasks/${task.id}/complete`);
    const s = await instances(task.series_id, 2);
    for (const id of [task.id, s.current.id]) {
      const rows = await t.app.database.db
        .selectFrom('events')
        .selectAll()
        .where('aggregate_id', '=', id)
        .orderBy('seq')
        .execute();
      const folded = foldTaskEvents(
        rows.map((e) => ({
          type: e.type,
          aggregateId: e.aggregate_id,
          aggregateVersion: e.aggregate_version,
          occurredAt: e.occurred_at,
          data: e.data as Record<string, unknown>,
        })),
      );
      expect(folded).toEqual((await get(`/tasks/${id}`)).body);
    }
  });

  it("another user's series is not found", async () => {
    clock.set('2026-04-01T08:00:00Z');
    const task = await createRecurring({ title: 'Mine', due_date: '2026-04-03', recurrence: { rule: 'FREQ=DAILY' } });
    const other = await signUp(t.app);
    expect((await call(t.app, 'GET', `/api/v1/series/${task.series_id}`, { token: other.token })).status).toBe(404);
    expect((await call(t.app, 'POST', `/api/v1/tasks/${task.id}/skip`, { token: other.token })).status).toBe(404);
  });
});
