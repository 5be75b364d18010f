// Moving an open recurring instance (docs/adr/0006-recurrence.md, "Moving an instance"):
// a new date moves only this occurrence, and the next one is the rule's first occurrence
// strictly after the later of the instance's own occurrence and its new due; a new time of
// day re-anchors the series' time; editing the rule re-anchors DTSTART on the due. Through
// HTTP, in zones with DST switches, checking that no occurrence repeats and none is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { toStoredEvent } from '../src/events/append-events.js';
import { generateNextInstance } from '../src/recurrence/consumer.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { until } from './support/until.js';

describeWithDatabase('moving a recurring instance', () => {
  let t: TestApp;
  let user: TestUser;
  const clock = new ManualClock('2026-01-01T00:00:00Z');
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: String(365 * 86_400) } });
    user = await signUp(t.app, { time_zone: 'Europe/Berlin' });
  });
  afterAll(() => t.close());

  const post = (url: string, body?: unknown) => call(t.app, 'POST', `/api/v1${url}`, { token: user.token, body });
  const patch = async (id: string, body: unknown) => {
    const res = await call(t.app, 'PATCH', `/api/v1/tasks/${id}`, { token: user.token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };
  const create = async (body: Record<string, unknown>) => {
    const res = await post('/tasks', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const series = async (id: string) => (await call(t.app, 'GET', `/api/v1/series/${id}`, { token: user.token })).body;
  const instances = (seriesId: string, n: number) =>
    until(
      async () => {
        const s = await series(seriesId);
        return s.instances?.length === n && s.current ? s : null;
      },
      { timeoutMs: 30_000, what: `${n} instances` },
    );
  const complete = async (id: string) => expect((await post(`/tasks/${id}/complete`)).status).toBe(200);
  /** Every instance's due, oldest first: the series as the user sees it. */
  const dues = (s: { instances: Array<{ due_at: string | null; due_date: string | null }> }) =>
    s.instances.map((i) => i.due_at ?? i.due_date);

  describe('schedule mode: a new date moves only this occurrence', () => {
    it('moved earlier (Berlin, across spring forward): the next is the one after its own occurrence, not a repeat of it', async () => {
      clock.set('2026-03-16T08:00:00Z');
      // Mondays 09:00 Berlin; the Monday 23 March instance is done early, on Friday 20 March.
      const task = await create({
        title: 'Weekly plan',
        due_at: '2026-03-23T09:00',
        recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO' },
      });
      const moved = await patch(task.id, { due_at: '2026-03-20T09:00' });
      expect(moved).toMatchObject({ due_at: '2026-03-20T08:00:00.000Z', recurrence: task.recurrence });
      await complete(task.id);
      const s = await instances(task.series_id, 2);
      // Monday 30 March, after the switch to CEST: 09:00 local is 07:00 UTC.
      expect(s.current.due_at).toBe('2026-03-30T07:00:00.000Z');
      expect(dues(s)).toEqual(['2026-03-20T08:00:00.000Z', '2026-03-30T07:00:00.000Z']);
    });

    it('moved later past the next occurrence (New York, across spring forward): the next follows the new due', async () => {
      clock.set('2026-03-01T12:00:00Z');
      // Daily 08:00 New York; the 7 March instance (EST) is moved to 9 March (EDT).
      const task = await create({
        title: 'Journal',
        due_at: '2026-03-07T08:00',
        time_zone: 'America/New_York',
        recurrence: { rule: 'FREQ=DAILY' },
      });
      const moved = await patch(task.id, { due_at: '2026-03-09T08:00' });
      expect(moved.due_at).toBe('2026-03-09T12:00:00.000Z');
      await complete(task.id);
      const s = await instances(task.series_id, 2);
      expect(s.current.due_at).toBe('2026-03-10T12:00:00.000Z');
    });

    it('skipping a moved instance skips its own occurrence too', async () => {
      clock.set('2026-03-16T08:00:00Z');
      const task = await create({ title: 'Skip me', due_date: '2026-03-23', recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO' } });
      await patch(task.id, { due_date: '2026-03-19' });
      const skipped = await post(`/tasks/${task.id}/skip`);
      expect(skipped.status).toBe(200);
      expect(skipped.body.due_date).toBe('2026-03-30');
      await complete(task.id);
      const s = await instances(task.series_id, 2);
      expect(dues(s)).toEqual(['2026-03-30', '2026-04-06']);
    });

    it('completing a moved instance twice and replaying its completions still makes one next instance', async () => {
      clock.set('2026-10-01T00:00:00Z');
      // All-day, Sydney, across its spring forward (4 October 2026).
      const task = await create({
        title: 'Bins',
        due_date: '2026-10-05',
        time_zone: 'Australia/Sydney',
        recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO,TH' },
      });
      await patch(task.id, { due_date: '2026-10-03' });
      await complete(task.id);
      await post(`/tasks/${task.id}/reopen`);
      await complete(task.id);
      const completions = await t.app.database.db
        .selectFrom('events')
        .selectAll()
        .where('aggregate_id', '=', task.id)
        .where('type', '=', 'task.completed')
        .execute();
      for (const row of completions) await t.app.transact((tx) => generateNextInstance(tx, toStoredEvent(row), clock.now()));
      const s = await instances(task.series_id, 2);
      expect(dues(s)).toEqual(['2026-10-03', '2026-10-08']);
      expect((await series(task.series_id)).instances).toHaveLength(2);
    });
  });

  it('a new time of day re-anchors the series’ time and stays local across DST (Sydney, autumn)', async () => {
    clock.set('2026-04-01T00:00:00Z');
    const task = await create({
      title: 'Walk',
      due_at: '2026-04-03T07:00',
      time_zone: 'Australia/Sydney',
      recurrence: { rule: 'FREQ=DAILY;COUNT=3' },
    });
    const moved = await patch(task.id, { due_at: '2026-04-03T18:30' });
    expect(moved.recurrence).toMatchObject({ rule: 'FREQ=DAILY;COUNT=3', dtstart: '2026-04-03T18:30:00' });
    await complete(task.id);
    const second = await instances(task.series_id, 2);
    expect(second.current.due_at).toBe('2026-04-04T07:30:00.000Z'); // 18:30 AEDT
    await complete(second.current.id);
    const third = await instances(task.series_id, 3);
    expect(third.current.due_at).toBe('2026-04-05T08:30:00.000Z'); // 18:30 AEST, after the switch
    // COUNT still counts from the original first day: the series ends after the third.
    await complete(third.current.id);
    await until(async () => (await series(task.series_id)).status === 'finished', { timeoutMs: 30_000, what: 'finished' });
  });

  it('editing the rule of a moved instance re-anchors DTSTART on its due: no date before it is skipped', async () => {
    clock.set('2026-03-16T08:00:00Z');
    const task = await create({ title: 'Re-rule', due_date: '2026-03-23', recurrence: { rule: 'FREQ=WEEKLY;BYDAY=MO' } });
    await patch(task.id, { due_date: '2026-03-19' });
    const set = await call(t.app, 'PUT', `/api/v1/tasks/${task.id}/recurrence`, {
      token: user.token,
      body: { rule: 'FREQ=DAILY' },
    });
    expect(set.status).toBe(200);
    expect(set.body.recurrence).toMatchObject({ rule: 'FREQ=DAILY', dtstart: '2026-03-19' });
    await complete(task.id);
    const s = await instances(task.series_id, 2);
    expect(s.current.due_date).toBe('2026-03-20');
  });

  describe('after_completion mode counts from the completion', () => {
    it('completing early never repeats the completed occurrence (every! day, twice in one day, New York)', async () => {
      clock.set('2026-11-01T14:00:00Z'); // 09:00 EST, the day DST ends
      const task = await create({
        title: 'Stretch',
        due_at: '2026-11-01T18:00',
        time_zone: 'America/New_York',
        recurrence: { rule: 'FREQ=DAILY', mode: 'after_completion' },
      });
      await complete(task.id);
      const second = await instances(task.series_id, 2);
      expect(second.current.due_at).toBe('2026-11-02T23:00:00.000Z'); // 18:00 EST the next day
      // Done again the same day: the next instance must not collide with the one just completed.
      await complete(second.current.id);
      const third = await instances(task.series_id, 3);
      expect(dues(third)).toEqual(['2026-11-01T23:00:00.000Z', '2026-11-02T23:00:00.000Z', '2026-11-03T23:00:00.000Z']);
    });

    it('a moved due does not matter: the next counts from the completion day (Berlin, autumn)', async () => {
      clock.set('2026-10-20T10:00:00Z');
      const task = await create({
        title: 'Descale',
        due_date: '2026-10-22',
        recurrence: { rule: 'FREQ=WEEKLY', mode: 'after_completion' },
      });
      await patch(task.id, { due_date: '2026-10-30' });
      clock.set('2026-10-24T10:00:00Z');
      await complete(task.id);
      const s = await instances(task.series_id, 2);
      expect(s.current.due_date).toBe('2026-10-31');
    });
  });
});
