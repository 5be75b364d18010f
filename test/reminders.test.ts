// Reminders through the HTTP API with a ManualClock: the scheduler fires on (test) time,
// the planner follows task changes, snooze, past reminders, recurring instances, inbox.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { appendEvents } from '../src/events/append-events.js';
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

const T0 = '2026-03-02T10:00:00.000Z';

describeWithDatabase('reminders', () => {
  let t: TestApp;
  let user: TestUser;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestApp({
      clock,
      workers: true,
      env: { CONSUMER_POLL_INTERVAL_MS: '50', ACCESS_TOKEN_TTL_SECONDS: '31536000' },
    });
    user = await signUp(t.app);
  });
  afterAll(async () => {
    await t?.close();
  });

  const at = (ms: number) => new Date(new Date(T0).getTime() + ms).toISOString();

  async function task(dueAt: string | null, title = 'Pay rent') {
    const res = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title, due_at: dueAt } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; version: number };
  }

  async function reminder(taskId: string, body: Record<string, unknown>) {
    const res = await call(t.app, 'POST', `/api/v1/tasks/${taskId}/reminders`, { token: user.token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string; remind_at: string; status: string };
  }

  const get = async (id: string) => (await call(t.app, 'GET', `/api/v1/reminders/${id}`, { token: user.token })).body;

  async function firedCount(reminderId: string): Promise<number> {
    const row = await t.app.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('type', '=', 'reminder.fired')
      .where('aggregate_id', '=', reminderId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Moves the test clock and tells the scheduler (timers run on real time, firing on clock time). */
  function advanceTo(iso: string) {
    clock.set(iso);
    t.app.reminderScheduler.wake();
  }

  /** Waits until the planner has handled everything appended so far. */
  const plannerCaughtUp = () => consumersCaughtUp(t.app, (name) => name.startsWith('reminder-'));

  it('fires a relative reminder at its time, not before, exactly once, and lands in the inbox', async () => {
    const { id: taskId } = await task(at(3600_000));
    const r = await reminder(taskId, { offset: '15m' });
    expect(r.remind_at).toBe(at(45 * 60_000));
    expect(r.status).toBe('pending');

    advanceTo(at(44 * 60_000));
    expect(await t.app.reminderScheduler.fireBatch()).toBe(0);
    expect((await get(r.id)).status).toBe('pending');

    advanceTo(at(45 * 60_000));
    await until(async () => (await get(r.id)).status === 'sent', { what: 'reminder sent', timeoutMs: 5000 });
    expect(await firedCount(r.id)).toBe(1);
    t.app.reminderScheduler.wake();
    expect(await t.app.reminderScheduler.fireBatch()).toBe(0);
    expect(await firedCount(r.id)).toBe(1);
    const fired = await t.app.database.db
      .selectFrom('events')
      .selectAll()
      .where('type', '=', 'reminder.fired')
      .where('aggregate_id', '=', r.id)
      .executeTakeFirstOrThrow();
    expect(fired).toMatchObject({ user_id: user.id, actor_id: user.id, aggregate_type: 'reminder', aggregate_version: 2 });
    expect(fired.data).toEqual({
      reminder_id: r.id,
      task_id: taskId,
      task_title: 'Pay rent',
      channel: 'all',
      remind_at: r.remind_at,
      fired_at: clock.now().toISOString(),
      targets: { webhook: false, push: false },
    });

    const inbox = await until(
      async () => {
        const res = await call(t.app, 'GET', '/api/v1/notifications?status=unread', { token: user.token });
        return res.body.items.find((n: { reminder_id: string }) => n.reminder_id === r.id) ? res.body : null;
      },
      { what: 'notification in the inbox', timeoutMs: 5000 },
    );
    const note = inbox.items.find((n: { reminder_id: string }) => n.reminder_id === r.id);
    expect(note).toMatchObject({ task_id: taskId, title: 'Pay rent', read: false });
    const read = await call(t.app, 'POST', `/api/v1/notifications/${note.id}/read`, { token: user.token });
    expect(read.status).toBe(200);
    expect(read.body.read).toBe(true);
    const unread = await call(t.app, 'GET', '/api/v1/notifications?status=unread', { token: user.token });
    expect(unread.body.items.some((n: { id: string }) => n.id === note.id)).toBe(false);
    const readList = await call(t.app, 'GET', '/api/v1/notifications?status=read', { token: user.token });
    expect(readList.body.items.some((n: { id: string }) => n.id === note.id)).toBe(true);
  });

  it('a reminder already past when created fires immediately, once', async () => {
    const { id: taskId } = await task(at(86_400_000));
    const r = await reminder(taskId, { remind_at: new Date(clock.now().getTime() - 60_000).toISOString() });
    await until(async () => (await get(r.id)).status === 'sent', { what: 'past reminder sent', timeoutMs: 5000 });
    t.app.reminderScheduler.wake();
    await t.app.reminderScheduler.fireBatch();
    expect(await firedCount(r.id)).toBe(1);
  });

  it('completing or deleting the task cancels pending reminders; reopening restores future ones', async () => {
    const now = clock.now().getTime();
    const a = await task(new Date(now + 7200_000).toISOString());
    const ra = await reminder(a.id, { offset: '1h' });
    const done = await call(t.app, 'POST', `/api/v1/tasks/${a.id}/complete`, { token: user.token });
    expect(done.status).toBe(200);
    await plannerCaughtUp();
    expect((await get(ra.id)).status).toBe('cancelled');

    // The task is completed: even at its time the reminder does not fire.
    advanceTo(new Date(now + 3600_000).toISOString());
    expect(await t.app.reminderScheduler.fireBatch()).toBe(0);
    expect(await firedCount(ra.id)).toBe(0);

    clock.set(new Date(now).toISOString());
    const reopened = await call(t.app, 'POST', `/api/v1/tasks/${a.id}/reopen`, { token: user.token });
    expect(reopened.status).toBe(200);
    await plannerCaughtUp();
    expect((await get(ra.id)).status).toBe('pending');

    const b = await task(new Date(now + 7200_000).toISOString());
    const rb = await reminder(b.id, { offset: '30m' });
    expect((await call(t.app, 'DELETE', `/api/v1/tasks/${b.id}`, { token: user.token })).status).toBe(204);
    await plannerCaughtUp();
    const row = await t.app.database.db.selectFrom('reminders').selectAll().where('id', '=', rb.id).executeTakeFirstOrThrow();
    expect(row.status).toBe('cancelled');
    expect(row.cancel_reason).toBe('task_deleted');
  });

  it('the fire query skips reminders of a task completed before the planner ran (the race)', async () => {
    const now = clock.now().getTime();
    const a = await task(new Date(now + 600_000).toISOString());
    // Insert as the planner would not see: complete the task with the runner stopped.
    const r = await reminder(a.id, { offset: 'at_due' });
    await t.app.consumers.stop();
    try {
      expect((await call(t.app, 'POST', `/api/v1/tasks/${a.id}/complete`, { token: user.token })).status).toBe(200);
      clock.set(new Date(now + 600_000).toISOString());
      expect(await t.app.reminderScheduler.fireBatch()).toBe(0);
      expect((await get(r.id)).status).toBe('pending');
    } finally {
      await t.app.consumers.start();
    }
    await plannerCaughtUp();
    expect((await get(r.id)).status).toBe('cancelled');
    expect(await firedCount(r.id)).toBe(0);
  });

  it('moving the due time moves relative reminders, not absolute ones', async () => {
    const now = clock.now().getTime();
    const a = await task(new Date(now + 86_400_000).toISOString());
    const rel = await reminder(a.id, { offset: 'PT2H' });
    const abs = await reminder(a.id, { remind_at: new Date(now + 3600_000).toISOString() });
    const res = await call(t.app, 'PATCH', `/api/v1/tasks/${a.id}`, {
      token: user.token,
      body: { due_at: new Date(now + 2 * 86_400_000).toISOString() },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await plannerCaughtUp();
    expect((await get(rel.id)).remind_at).toBe(new Date(now + 2 * 86_400_000 - 7200_000).toISOString());
    expect((await get(abs.id)).remind_at).toBe(new Date(now + 3600_000).toISOString());
  });

  it('snooze: a fired reminder fires again 15 minutes later, and tomorrow 09:00 local', async () => {
    const now = clock.now().getTime();
    const a = await task(new Date(now + 60_000).toISOString());
    const r = await reminder(a.id, { offset: 'at_due' });
    advanceTo(new Date(now + 60_000).toISOString());
    await until(async () => (await get(r.id)).status === 'sent', { what: 'sent', timeoutMs: 5000 });

    const snoozed = await call(t.app, 'POST', `/api/v1/reminders/${r.id}/snooze`, {
      token: user.token,
      body: { duration: '15m' },
    });
    expect(snoozed.status).toBe(200);
    expect(snoozed.body).toMatchObject({ status: 'pending', remind_at: new Date(now + 60_000 + 900_000).toISOString() });
    advanceTo(new Date(now + 60_000 + 900_000).toISOString());
    await until(async () => (await get(r.id)).status === 'sent', { what: 'snoozed reminder sent', timeoutMs: 5000 });
    expect(await firedCount(r.id)).toBe(2);

    const tomorrow = await call(t.app, 'POST', `/api/v1/reminders/${r.id}/snooze`, {
      token: user.token,
      body: { duration: 'tomorrow' },
    });
    const expected = new Date(clock.now().getTime() + 86_400_000);
    expected.setUTCHours(9, 0, 0, 0);
    expect(tomorrow.body.remind_at).toBe(expected.toISOString());
    const bad = await call(t.app, 'POST', `/api/v1/reminders/${r.id}/snooze`, { token: user.token, body: { duration: '2h' } });
    expect(bad.status).toBe(422);
  });

  it('the next instance of a recurring series gets the relative reminders', async () => {
    const now = clock.now().getTime();
    const first = await task(new Date(now + 86_400_000).toISOString(), 'Standup');
    await reminder(first.id, { offset: '15m' });
    await reminder(first.id, { offset: '1d' });
    await reminder(first.id, { remind_at: new Date(now + 1000).toISOString() });
    const next = await task(new Date(now + 2 * 86_400_000).toISOString(), 'Standup');
    // What the recurrence consumer appends when it generates the next instance.
    await t.app.transact((tx) =>
      appendEvents(tx, { userId: user.id, correlationId: null }, clock.now(), [
        {
          type: 'task.recurrence.generated',
          aggregateType: 'task',
          aggregateId: next.id,
          aggregateVersion: next.version + 1,
          userId: user.id,
          data: { previous_task_id: first.id, task_id: next.id },
        },
      ]),
    );
    await plannerCaughtUp();
    const list = await call(t.app, 'GET', `/api/v1/tasks/${next.id}/reminders`, { token: user.token });
    expect(list.body.items.map((r: { offset: string; remind_at: string }) => [r.offset, r.remind_at])).toEqual([
      ['1d', new Date(now + 86_400_000).toISOString()],
      ['15m', new Date(now + 2 * 86_400_000 - 900_000).toISOString()],
    ]);
  });

  it('completing a recurring task: the generated next instance gets the relative reminders', async () => {
    const now = clock.now().getTime();
    const due = new Date(now + 3600_000).toISOString();
    const res = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'Daily review', due_at: due, recurrence: { rule: 'FREQ=DAILY' } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await reminder(res.body.id, { offset: '30m' });
    expect((await call(t.app, 'POST', `/api/v1/tasks/${res.body.id}/complete`, { token: user.token })).status).toBe(200);
    const next = await until(
      () =>
        t.app.database.db
          .selectFrom('tasks')
          .select(['id', 'due_at'])
          .where('previous_task_id', '=', res.body.id)
          .executeTakeFirst(),
      { what: 'next instance', timeoutMs: 10_000 },
    );
    await plannerCaughtUp();
    const list = await call(t.app, 'GET', `/api/v1/tasks/${next.id}/reminders`, { token: user.token });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({
      offset: '30m',
      status: 'pending',
      remind_at: new Date(new Date(next.due_at as Date).getTime() - 1800_000).toISOString(),
    });
  });

  it('a user default reminder is applied to new tasks with a due time', async () => {
    const other = await signUp(t.app);
    const set = await call(t.app, 'PATCH', '/api/v1/reminder-settings', { token: other.token, body: { default_offset: '30m' } });
    expect(set.status).toBe(200);
    expect(set.body.default_offset).toBe('30m');
    const due = new Date(clock.now().getTime() + 86_400_000).toISOString();
    const res = await call(t.app, 'POST', '/api/v1/tasks', { token: other.token, body: { title: 'x', due_at: due } });
    const noDue = await call(t.app, 'POST', '/api/v1/tasks', { token: other.token, body: { title: 'y' } });
    // Written with the task: there when POST returns, no consumer involved.
    const list = await call(t.app, 'GET', `/api/v1/tasks/${res.body.id}/reminders`, { token: other.token });
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ offset: '30m', remind_at: new Date(Date.parse(due) - 1800_000).toISOString() });
    const none = await call(t.app, 'GET', `/api/v1/tasks/${noDue.body.id}/reminders`, { token: other.token });
    expect(none.body.items).toHaveLength(0);
  });

  it('validates input, lists across tasks by status, and hides other users’ reminders', async () => {
    const a = await task(null);
    const rel = await call(t.app, 'POST', `/api/v1/tasks/${a.id}/reminders`, { token: user.token, body: { offset: '15m' } });
    expect(rel.status).toBe(422);
    const both = await call(t.app, 'POST', `/api/v1/tasks/${a.id}/reminders`, {
      token: user.token,
      body: { offset: '15m', remind_at: T0 },
    });
    expect(both.status).toBe(422);
    const badOffset = await call(t.app, 'POST', `/api/v1/tasks/${a.id}/reminders`, {
      token: user.token,
      body: { offset: 'soon' },
    });
    expect(badOffset.status).toBe(422);
    const r = await reminder(a.id, { remind_at: new Date(clock.now().getTime() + 3600_000).toISOString() });
    const pending = await call(t.app, 'GET', '/api/v1/reminders?status=pending', { token: user.token });
    expect(pending.body.items.some((x: { id: string }) => x.id === r.id)).toBe(true);

    const stranger = await signUp(t.app);
    expect((await call(t.app, 'GET', `/api/v1/reminders/${r.id}`, { token: stranger.token })).status).toBe(404);
    expect((await call(t.app, 'DELETE', `/api/v1/reminders/${r.id}`, { token: stranger.token })).status).toBe(404);
    expect(
      (await call(t.app, 'POST', `/api/v1/tasks/${a.id}/reminders`, { token: stranger.token, body: { remind_at: T0 } })).status,
    ).toBe(404);
    expect((await call(t.app, 'GET', '/api/v1/reminders', { token: stranger.token })).body.items).toEqual([]);

    const patched = await call(t.app, 'PATCH', `/api/v1/reminders/${r.id}`, { token: user.token, body: { channel: 'in_app' } });
    expect(patched.body.channel).toBe('in_app');
    expect((await call(t.app, 'DELETE', `/api/v1/reminders/${r.id}`, { token: user.token })).status).toBe(204);
    expect((await call(t.app, 'GET', `/api/v1/reminders/${r.id}`, { token: user.token })).status).toBe(404);
  });

  it('exposes fire delay, fired total and pending metrics', async () => {
    const res = await t.app.http.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/taskflow_reminder_fire_delay_seconds_count\{[^}]*\} [1-9]/);
    expect(res.body).toMatch(/taskflow_reminders_fired_total\{[^}]*\} [1-9]/);
    expect(res.body).toMatch(/taskflow_reminders_pending\{[^}]*\} \d+/);
  });
});
