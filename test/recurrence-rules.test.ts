// Issue 6 requirement by requirement, through HTTP: both modes across both DST switches in
// Berlin, New York and Sydney (timed and all-day), local times that do not exist or repeat,
// the presets, UNTIL, catch_up, and that an invalid rule is never stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { until } from './support/until.js';

// Zone, the switch, the local day before it, the day of it, and 09:00 local on both days in UTC.
const SWITCHES = [
  ['Europe/Berlin', 'spring forward', '2026-03-28', '2026-03-29', '2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z'],
  ['Europe/Berlin', 'fall back', '2026-10-24', '2026-10-25', '2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z'],
  ['America/New_York', 'spring forward', '2026-03-07', '2026-03-08', '2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z'],
  ['America/New_York', 'fall back', '2026-10-31', '2026-11-01', '2026-10-31T13:00:00.000Z', '2026-11-01T14:00:00.000Z'],
  ['Australia/Sydney', 'fall back', '2026-04-04', '2026-04-05', '2026-04-03T22:00:00.000Z', '2026-04-04T23:00:00.000Z'],
  ['Australia/Sydney', 'spring forward', '2026-10-03', '2026-10-04', '2026-10-02T23:00:00.000Z', '2026-10-03T22:00:00.000Z'],
] as const;
const MODES = ['schedule', 'after_completion'] as const;

describeWithDatabase('recurrence rules through the API', () => {
  let t: TestApp;
  let user: TestUser;
  const clock = new ManualClock('2026-01-01T00:00:00Z');
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: String(365 * 86_400) } });
    user = await signUp(t.app, { time_zone: 'Europe/Berlin' });
  });
  afterAll(() => t.close());

  const post = (url: string, body?: unknown) => call(t.app, 'POST', `/api/v1${url}`, { token: user.token, body });
  const get = (url: string) => call(t.app, 'GET', `/api/v1${url}`, { token: user.token });
  const create = async (body: Record<string, unknown>) => {
    const res = await post('/tasks', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const series = async (id: string) => (await get(`/series/${id}`)).body;
  const instances = (seriesId: string, n: number) =>
    until(
      async () => {
        const s = await series(seriesId);
        return s.instances?.length === n && s.current ? s : null;
      },
      { timeoutMs: 30_000, what: `${n} instances` },
    );
  /** Completes a one-instance series at `at` and returns the instance the consumer made. */
  const completeAndNext = async (task: { id: string; series_id: string }, at: string) => {
    clock.set(at);
    expect((await post(`/tasks/${task.id}/complete`)).status).toBe(200);
    return (await instances(task.series_id, 2)).current;
  };
  const plusHours = (iso: string, h: number) => new Date(new Date(iso).getTime() + h * 3_600_000).toISOString();

  describe('both modes across both DST switches', () => {
    const cases = SWITCHES.flatMap((s) => MODES.map((mode) => [...s, mode] as const));
    it.each(cases)(
      '%s, %s, %s → %s, %s: 09:00 stays 09:00 local',
      async (zone, _switch, before, day, firstUtc, nextUtc, mode) => {
        clock.set(plusHours(firstUtc, -24));
        const task = await create({
          title: `Daily ${zone} ${mode}`,
          due_at: `${before}T09:00`,
          time_zone: zone,
          recurrence: { rule: 'FREQ=DAILY', mode },
        });
        expect(task.due_at).toBe(firstUtc);
        // Completed at 12:00 local on the day before the switch: both modes give the switch day.
        const next = await completeAndNext(task, plusHours(firstUtc, 3));
        expect(next).toMatchObject({ due_at: nextUtc, due_date: null, time_zone: zone });
        expect(day).toBe(new Date(nextUtc).toLocaleDateString('en-CA', { timeZone: zone }));
      },
    );

    it.each(cases)(
      '%s, %s, %s → %s, all day: stays all day on the next date',
      async (zone, _switch, before, day, firstUtc, _n, mode) => {
        clock.set(plusHours(firstUtc, -24));
        const task = await create({
          title: `All-day ${zone} ${mode}`,
          due_date: before,
          time_zone: zone,
          recurrence: { rule: 'FREQ=DAILY', mode },
        });
        const next = await completeAndNext(task, plusHours(firstUtc, 3));
        expect(next).toMatchObject({ due_date: day, due_at: null });
      },
    );
  });

  it.each([
    // Spring forward: 02:30 does not exist on the switch day and moves forward by the gap.
    ['Europe/Berlin', '2026-03-28T02:30', '2026-03-29T01:30:00.000Z', '2026-03-30T00:30:00.000Z'],
    ['America/New_York', '2026-03-07T02:30', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    ['Australia/Sydney', '2026-10-03T02:30', '2026-10-03T16:30:00.000Z', '2026-10-04T15:30:00.000Z'],
    // Fall back: a repeated local time is its first (earlier) instant.
    ['Europe/Berlin', '2026-10-24T02:30', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    ['America/New_York', '2026-10-31T01:30', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    ['Australia/Sydney', '2026-04-04T02:30', '2026-04-04T15:30:00.000Z', '2026-04-05T16:30:00.000Z'],
  ])(
    '%s: a daily %s that does not exist or repeats on the switch day is neither lost nor doubled',
    async (zone, due, next, after) => {
      clock.set('2026-01-01T00:00:00Z');
      const task = await create({
        title: `Gap ${zone} ${due}`,
        due_at: due,
        time_zone: zone,
        recurrence: { rule: 'FREQ=DAILY' },
      });
      const second = await completeAndNext(task, '2026-01-01T00:00:01Z');
      expect(second.due_at).toBe(next);
      // The day after, back at the series' local time.
      const third = await (async () => {
        expect((await post(`/tasks/${second.id}/complete`)).status).toBe(200);
        return (await instances(task.series_id, 3)).current;
      })();
      expect(third.due_at).toBe(after);
    },
  );

  it.each([
    [{ freq: 'daily' }, 'FREQ=DAILY', ['2026-06-01', '2026-06-02', '2026-06-03']],
    [{ freq: 'daily', interval: 3, count: 2 }, 'FREQ=DAILY;INTERVAL=3;COUNT=2', ['2026-06-01', '2026-06-04']],
    [{ freq: 'weekdays' }, 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR', ['2026-06-01', '2026-06-02', '2026-06-03']],
    [{ freq: 'weekly', days: ['MO', 'TH'] }, 'FREQ=WEEKLY;BYDAY=MO,TH', ['2026-06-01', '2026-06-04', '2026-06-08']],
    [{ freq: 'weekly', interval: 2 }, 'FREQ=WEEKLY;INTERVAL=2', ['2026-06-01', '2026-06-15', '2026-06-29']],
    [{ freq: 'monthly', month_day: 1 }, 'FREQ=MONTHLY;BYMONTHDAY=1', ['2026-06-01', '2026-07-01', '2026-08-01']],
    [{ freq: 'monthly', month_day: -1 }, 'FREQ=MONTHLY;BYMONTHDAY=-1', ['2026-06-30', '2026-07-31', '2026-08-31']],
    [
      { freq: 'monthly', weekday_of_month: { n: 1, day: 'MO' } },
      'FREQ=MONTHLY;BYDAY=1MO',
      ['2026-06-01', '2026-07-06', '2026-08-03'],
    ],
    [
      { freq: 'monthly', weekday_of_month: { n: -1, day: 'FR' } },
      'FREQ=MONTHLY;BYDAY=-1FR',
      ['2026-06-26', '2026-07-31', '2026-08-28'],
    ],
    [{ freq: 'yearly' }, 'FREQ=YEARLY', ['2026-06-01', '2027-06-01', '2028-06-01']],
    [{ freq: 'weekly', until: '2026-06-15' }, 'FREQ=WEEKLY;UNTIL=20260615', ['2026-06-01', '2026-06-08', '2026-06-15']],
  ])('preset %j is the rule %s with the expected dates', async (preset, rule, dates) => {
    clock.set('2026-05-01T00:00:00Z');
    const task = await create({ title: 'Preset', due_date: '2026-06-01', recurrence: { preset } });
    expect(task.recurrence.rule).toBe(rule);
    const preview = await get(`/recurrence/preview?rule=${encodeURIComponent(rule)}&dtstart=2026-06-01&count=3`);
    expect(preview.status).toBe(200);
    expect(preview.body.occurrences.map((o: { due_date: string }) => o.due_date)).toEqual(dates);
  });

  it.each([
    [{ freq: 'monthly', month_day: 1, weekday_of_month: { n: 1, day: 'MO' } }, 'month_day or weekday_of_month'],
    [{ freq: 'weekly', until: '2026-12-31', count: 3 }, 'until or by count'],
  ])('preset %j is a 422 naming the conflict', async (preset, message) => {
    const res = await post('/tasks', { title: 'Preset', due_date: '2026-06-01', recurrence: { preset } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body)).toContain(message);
  });

  it('UNTIL ends the series: completing the last instance creates nothing and marks it finished', async () => {
    clock.set('2026-06-01T06:00:00Z');
    const task = await create({
      title: 'Until',
      due_at: '2026-06-01T09:00',
      recurrence: { rule: 'FREQ=DAILY;UNTIL=20260602T070000Z' },
    });
    const second = await completeAndNext(task, '2026-06-01T08:00:00Z');
    expect(second.due_at).toBe('2026-06-02T07:00:00.000Z');
    await post(`/tasks/${second.id}/complete`);
    await until(async () => (await series(task.series_id)).status === 'finished', { timeoutMs: 30_000, what: 'finished' });
    const [finished] = await t.app.database.db
      .selectFrom('events')
      .selectAll()
      .where('aggregate_id', '=', second.id)
      .where('type', '=', 'task.recurrence.finished')
      .execute();
    expect(finished?.data).toEqual({ series_id: task.series_id });
    expect((await series(task.series_id)).instances).toHaveLength(2);
  });

  it('catch_up=true: a late completion creates the first missed occurrence and skips nothing', async () => {
    clock.set('2026-06-01T06:00:00Z');
    const task = await create({
      title: 'Catch up',
      due_date: '2026-06-01',
      recurrence: { rule: 'FREQ=DAILY', catch_up: true },
    });
    const next = await completeAndNext(task, '2026-06-05T10:00:00Z');
    expect(next.due_date).toBe('2026-06-02');
    const [generated] = await t.app.database.db
      .selectFrom('events')
      .selectAll()
      .where('aggregate_id', '=', next.id)
      .where('type', '=', 'task.recurrence.generated')
      .execute();
    expect(generated?.data).toMatchObject({ skipped: [] });
  });

  it('an invalid rule is a 422 and nothing is stored: no task, no series, no event', async () => {
    const count = async () => {
      const db = t.app.database.db;
      const [tasks, seriesRows, events] = await Promise.all([
        db
          .selectFrom('tasks')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('task_series')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('events')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow(),
      ]);
      return [tasks.n, seriesRows.n, events.n];
    };
    const before = await count();
    for (const recurrence of [
      { rule: 'FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2' },
      { rule: 'FREQ=WEEKLY;BYDAY=XX' },
      { rule: 'FREQ=HOURLY' },
    ]) {
      const res = await post('/tasks', { title: 'never', due_date: '2026-06-01', recurrence });
      expect(res.status, JSON.stringify(recurrence)).toBe(422);
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain('recurrence.rule');
    }
    expect(await count()).toEqual(before);
  });
});
