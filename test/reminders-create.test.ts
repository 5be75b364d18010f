// Reminders written with their task (POST /api/v1/tasks): explicit ones, quick-add's, the
// user's default; in the task's transaction (a bad reminder writes nothing). And DST: days
// and weeks before a due count on the calendar of the task's zone, hours are exact.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import {
  call,
  consumersCaughtUp,
  describeWithDatabase,
  signUp,
  startTestApp,
  type TestApp,
  type TestUser,
} from './support/app.js';
import { until } from './support/until.js';

const T0 = '2026-01-10T10:00:00.000Z';

interface Reminder {
  id: string;
  remind_at: string;
  offset: string | null;
  status: string;
}

describeWithDatabase('reminders created with their task', () => {
  let t: TestApp;
  let berlin: TestUser;
  let newYork: TestUser;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestApp({
      clock,
      workers: true,
      env: { CONSUMER_POLL_INTERVAL_MS: '50', ACCESS_TOKEN_TTL_SECONDS: '31536000' },
    });
    berlin = await signUp(t.app, { time_zone: 'Europe/Berlin' });
    newYork = await signUp(t.app, { time_zone: 'America/New_York' });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Creates a task and reads the reminders its Link header points to (there when POST returns). */
  async function createTask(user: TestUser, body: Record<string, unknown>) {
    const res = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const task = res.body as { id: string; version: number; title: string; due_at: string | null };
    return { ...task, reminders: await remindersOf(user, task.id, res.headers.link) };
  }

  async function remindersOf(user: TestUser, taskId: string, link?: unknown): Promise<Reminder[]> {
    const href =
      link === undefined ? `/api/v1/tasks/${taskId}/reminders` : /^<([^>]+)>; rel="reminders"$/.exec(String(link))?.[1];
    expect(href).toBe(`/api/v1/tasks/${taskId}/reminders`);
    const res = await call(t.app, 'GET', href as string, { token: user.token });
    expect(res.status).toBe(200);
    return res.body.items as Reminder[];
  }

  const times = (reminders: Reminder[]) => reminders.map((r) => r.remind_at);

  async function taskCount(user: TestUser): Promise<number> {
    const row = await t.app.database.db
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('created_by', '=', user.id)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  const plannerCaughtUp = () => consumersCaughtUp(t.app, (name) => name.startsWith('reminder-'));

  it('explicit reminders are created with the task, with their events in the same transaction', async () => {
    const task = await createTask(berlin, {
      title: 'Board meeting',
      due_at: '2026-02-10T09:00',
      reminders: [
        { offset: '15m' },
        { remind_at: '2026-02-09T18:00', time_zone: 'America/New_York', channel: 'in_app' },
        { remind_at: '2026-02-08T12:00:00Z' },
      ],
    });
    // 09:00 Berlin = 08:00Z; 18:00 New York = 23:00Z.
    expect(times(task.reminders)).toEqual(['2026-02-08T12:00:00.000Z', '2026-02-09T23:00:00.000Z', '2026-02-10T07:45:00.000Z']);
    expect(task.reminders.every((r) => r.status === 'pending')).toBe(true);

    const got = await call(t.app, 'GET', `/api/v1/tasks/${task.id}`, { token: berlin.token });
    expect(await remindersOf(berlin, task.id, got.headers.link)).toEqual(task.reminders);

    const events = await t.app.database.db
      .selectFrom('events')
      .select(['type', 'tx_id', 'aggregate_id'])
      .where((eb) =>
        eb.or([
          eb('aggregate_id', '=', task.id),
          eb(
            'aggregate_id',
            'in',
            task.reminders.map((r) => r.id),
          ),
        ]),
      )
      .execute();
    expect(events.map((e) => e.type).sort()).toEqual([
      'reminder.scheduled',
      'reminder.scheduled',
      'reminder.scheduled',
      'task.created',
    ]);
    expect(new Set(events.map((e) => String(e.tx_id))).size).toBe(1);
  });

  it('a local remind_at without time_zone is in the task’s zone', async () => {
    const task = await createTask(newYork, {
      title: 'Call',
      due_at: '2026-02-10T09:00',
      reminders: [{ remind_at: '2026-02-10T08:00' }],
    });
    expect(times(task.reminders)).toEqual(['2026-02-10T13:00:00.000Z']);
  });

  it('the user default reminder is applied at create to a task with a due date, not without, not over [] or explicit ones', async () => {
    const user = await signUp(t.app, { time_zone: 'Europe/Berlin' });
    const set = await call(t.app, 'PATCH', '/api/v1/reminder-settings', { token: user.token, body: { default_offset: '1d' } });
    expect(set.status).toBe(200);

    const timed = await createTask(user, { title: 'Timed', due_at: '2026-02-10T09:00' });
    expect(timed.reminders).toMatchObject([{ offset: '1d', remind_at: '2026-02-09T08:00:00.000Z', status: 'pending' }]);
    const allDay = await createTask(user, { title: 'All day', due_date: '2026-02-10' });
    // Midnight Berlin = 23:00Z the day before; a day earlier still.
    expect(times(allDay.reminders)).toEqual(['2026-02-08T23:00:00.000Z']);
    expect((await createTask(user, { title: 'No due' })).reminders).toEqual([]);
    expect((await createTask(user, { title: 'Opted out', due_at: '2026-02-10T09:00', reminders: [] })).reminders).toEqual([]);
    const explicit = await createTask(user, { title: 'Own', due_at: '2026-02-10T09:00', reminders: [{ offset: '5m' }] });
    expect(explicit.reminders.map((r) => r.offset)).toEqual(['5m']);

    // The planner does not add a second one later (task.created is no longer its event).
    await plannerCaughtUp();
    expect(await remindersOf(user, timed.id)).toHaveLength(1);
  });

  it('quick add creates the reminders its text asks for', async () => {
    const task = await createTask(berlin, { quick: 'Flight on 2026-03-29 at 09:00 remind me 1 day before #travel' });
    expect(task).toMatchObject({ title: 'Flight', due_at: '2026-03-29T07:00:00.000Z' });
    // The day before 09:00 CEST is 09:00 CET (the clocks went forward that night).
    expect(task.reminders).toMatchObject([{ offset: 'P1D', remind_at: '2026-03-28T08:00:00.000Z' }]);

    const own = await createTask(berlin, {
      quick: 'Dentist on 2026-02-20 at 10:00 remind me 2 hours before',
      reminders: [{ offset: '30m' }],
    });
    expect(own.reminders.map((r) => r.offset)).toEqual(['30m']);
  });

  it('a bad reminder is 422 naming its field, and no task is written', async () => {
    const before = await taskCount(berlin);
    const badOffset = await call(t.app, 'POST', '/api/v1/tasks', {
      token: berlin.token,
      body: { title: 'x', due_at: '2026-02-10T09:00', reminders: [{ offset: '15m' }, { offset: 'soon' }] },
    });
    expect(badOffset.status).toBe(422);
    expect(badOffset.body.errors).toEqual([expect.objectContaining({ field: 'reminders.1.offset' })]);

    const both = await call(t.app, 'POST', '/api/v1/tasks', {
      token: berlin.token,
      body: { title: 'x', due_at: '2026-02-10T09:00', reminders: [{ offset: '15m', remind_at: T0 }] },
    });
    expect(both.status).toBe(422);
    expect(both.body.errors).toEqual([expect.objectContaining({ field: 'reminders.0.offset' })]);

    // Found only once the task is written: the transaction rolls the task back.
    const noDue = await call(t.app, 'POST', '/api/v1/tasks', {
      token: berlin.token,
      body: { title: 'x', reminders: [{ remind_at: '2026-02-01T10:00:00Z' }, { offset: '1h' }] },
    });
    expect(noDue.status).toBe(422);
    expect(noDue.body.errors).toEqual([expect.objectContaining({ field: 'reminders.1.offset' })]);

    const quickNoDue = await call(t.app, 'POST', '/api/v1/tasks', {
      token: berlin.token,
      body: { quick: 'Call mom remind me 1 hour before' },
    });
    expect(quickNoDue.status).toBe(422);
    expect(quickNoDue.body.errors).toEqual([expect.objectContaining({ field: 'quick.offset' })]);

    expect(await taskCount(berlin)).toBe(before);
    const orphans = await t.app.database.db
      .selectFrom('reminders')
      .select('id')
      .where('user_id', '=', berlin.id)
      .where('task_id', 'not in', t.app.database.db.selectFrom('tasks').select('id'))
      .execute();
    expect(orphans).toEqual([]);
  });

  // Both switches of 2026: Berlin 29 March / 25 October, New York 8 March / 1 November.
  it('days and weeks before count on the calendar of the task’s zone across both DST switches; hours are exact', async () => {
    const cases: Array<{ user: TestUser; due_at: string; offset: string; expected: string }> = [
      // Berlin, spring forward (29 March): 09:00 CEST = 07:00Z; the day before 09:00 CET = 08:00Z.
      { user: berlin, due_at: '2026-03-29T09:00', offset: '1d', expected: '2026-03-28T08:00:00.000Z' },
      { user: berlin, due_at: '2026-03-29T09:00', offset: 'PT24H', expected: '2026-03-28T07:00:00.000Z' },
      { user: berlin, due_at: '2026-04-02T09:00', offset: '1w', expected: '2026-03-26T08:00:00.000Z' },
      { user: berlin, due_at: '2026-03-29T09:00', offset: 'P1DT1H', expected: '2026-03-28T07:00:00.000Z' },
      // Berlin, fall back (25 October): 09:00 CET = 08:00Z; the day before 09:00 CEST = 07:00Z.
      { user: berlin, due_at: '2026-10-25T09:00', offset: 'P1D', expected: '2026-10-24T07:00:00.000Z' },
      { user: berlin, due_at: '2026-10-25T09:00', offset: '1h', expected: '2026-10-25T07:00:00.000Z' },
      { user: berlin, due_at: '2026-11-25T09:00', offset: 'P1M', expected: '2026-10-25T08:00:00.000Z' },
      // New York, spring forward (8 March): 09:00 EDT = 13:00Z; the day before 09:00 EST = 14:00Z.
      { user: newYork, due_at: '2026-03-08T09:00', offset: '1d', expected: '2026-03-07T14:00:00.000Z' },
      // New York, fall back (1 November): 09:00 EST = 14:00Z; the day before 09:00 EDT = 13:00Z.
      { user: newYork, due_at: '2026-11-01T09:00', offset: '1d', expected: '2026-10-31T13:00:00.000Z' },
      { user: newYork, due_at: '2026-11-07T09:00', offset: '1w', expected: '2026-10-31T13:00:00.000Z' },
    ];
    for (const c of cases) {
      const task = await createTask(c.user, { title: 'DST', due_at: c.due_at, reminders: [{ offset: c.offset }] });
      expect(`${c.due_at} ${c.offset} → ${task.reminders[0]?.remind_at}`).toBe(`${c.due_at} ${c.offset} → ${c.expected}`);
    }

    // All-day tasks: midnight local. Berlin 29 March 00:00 CET = 28th 23:00Z; the day before = 27th 23:00Z.
    const allDay = await createTask(berlin, { title: 'All day', due_date: '2026-03-29', reminders: [{ offset: '1d' }] });
    expect(times(allDay.reminders)).toEqual(['2026-03-27T23:00:00.000Z']);
    // New York 2 November 00:00 EST = 05:00Z; the day before is 1 November 00:00 EDT = 04:00Z.
    const nyAllDay = await createTask(newYork, { title: 'All day', due_date: '2026-11-02', reminders: [{ offset: '1d' }] });
    expect(times(nyAllDay.reminders)).toEqual(['2026-11-01T04:00:00.000Z']);
  });

  it('moving the due time across a DST switch keeps "1 day before" at the same wall time', async () => {
    const task = await createTask(berlin, { title: 'Move me', due_at: '2026-03-20T09:00', reminders: [{ offset: '1d' }] });
    expect(times(task.reminders)).toEqual(['2026-03-19T08:00:00.000Z']);
    const moved = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, {
      token: berlin.token,
      body: { due_at: '2026-03-30T09:00' },
    });
    expect(moved.status).toBe(200);
    await plannerCaughtUp();
    // 30 March 09:00 CEST = 07:00Z; 29 March 09:00 CEST = 07:00Z (after the 02:00 switch that day).
    expect(times(await remindersOf(berlin, task.id))).toEqual(['2026-03-29T07:00:00.000Z']);
    const back = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, {
      token: berlin.token,
      body: { due_at: '2026-03-29T09:00' },
    });
    expect(back.status).toBe(200);
    await plannerCaughtUp();
    expect(times(await remindersOf(berlin, task.id))).toEqual(['2026-03-28T08:00:00.000Z']);
  });
  it('the next instance of a daily series across the spring switch gets "1 day before" at the same wall time', async () => {
    const first = await createTask(berlin, {
      title: 'Daily 09:00',
      due_at: '2026-03-28T09:00',
      recurrence: { rule: 'FREQ=DAILY' },
      reminders: [{ offset: '1d' }],
    });
    expect(times(first.reminders)).toEqual(['2026-03-27T08:00:00.000Z']);
    const done = await call(t.app, 'POST', `/api/v1/tasks/${first.id}/complete`, { token: berlin.token });
    expect(done.status).toBe(200);
    const next = await until(
      () =>
        t.app.database.db
          .selectFrom('tasks')
          .select(['id', 'due_at'])
          .where('previous_task_id', '=', first.id)
          .executeTakeFirst(),
      { what: 'next instance', timeoutMs: 10_000 },
    );
    expect(new Date(next.due_at as Date).toISOString()).toBe('2026-03-29T07:00:00.000Z'); // 09:00 CEST
    await plannerCaughtUp();
    // 28 March 09:00 CET; a fixed 86,400 s would give 07:00Z (08:00 CET).
    expect(await remindersOf(berlin, next.id)).toMatchObject([{ offset: '1d', remind_at: '2026-03-28T08:00:00.000Z' }]);
  });

  it('OpenAPI documents the reminders of POST /tasks and the default reminder of PATCH /reminder-settings', async () => {
    const doc = (await call(t.app, 'GET', '/api/openapi.json')).body;
    const json = (path: string, method: string) => doc.paths[path][method].requestBody.content['application/json'].schema;
    const create = json('/api/v1/tasks', 'post');
    expect(create.properties.reminders).toMatchObject({
      type: 'array',
      description: expect.stringContaining('default reminder'),
    });
    expect(JSON.stringify(create.properties.reminders.items)).toContain('remind_at');
    expect(doc.paths['/api/v1/tasks'].post.description).toContain('Link');
    const settings = json('/api/v1/reminder-settings', 'patch');
    expect(JSON.stringify(settings.properties.default_offset)).toContain('new task');
    expect(doc.paths['/api/v1/reminder-settings'].patch.description).toContain('default_offset');
  });
});
