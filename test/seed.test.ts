// The seed command's set-based path (`taskflow seed --tasks N --users M`): the rows it
// writes in bulk must be what the services would have written — every task has its events,
// folding them equals GET /tasks/{id}, and the derived search columns are right.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_PASSWORD, seed } from '../src/seed/seed.js';
import { foldTaskEvents } from '../src/tasks/fold.js';
import { call, describeWithDatabase, startTestApp, type TestApp } from './support/app.js';

describeWithDatabase('bulk seed', () => {
  let t: TestApp;
  let token: string;
  let result: Awaited<ReturnType<typeof seed>>;

  beforeAll(async () => {
    t = await startTestApp({ workers: false });
    result = await seed(t.app, 'bulk', { tasks: 1500, users: 1, tasksPerUser: 300 });
    const login = await call(t.app, 'POST', '/api/v1/auth/login', {
      body: { email: 'bulk@example.com', password: DEMO_PASSWORD },
    });
    token = login.body.access_token;
  });
  afterAll(() => t.close());

  const get = async (url: string) => {
    const res = await call(t.app, 'GET', url, { token });
    expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(200);
    return res.body;
  };

  it('writes the requested tasks for each user, some completed, each with its events', async () => {
    expect(result).toMatchObject({ email: 'bulk@example.com', tasks: 1500, users: 2, total_tasks: 1800 });
    expect(result.completed).toBeGreaterThan(0);
    const db = t.app.database.db;
    const [tasks, created, completed] = await Promise.all([
      db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('type', '=', 'task.created')
        .executeTakeFirstOrThrow(),
      db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'completed')
        .executeTakeFirstOrThrow(),
    ]);
    expect(Number(tasks.n)).toBe(1800);
    expect(Number(created.n)).toBe(1800);
    const completedEvents = await db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('type', '=', 'task.completed')
      .executeTakeFirstOrThrow();
    expect(completedEvents.n).toBe(completed.n);
  });

  it('folding a seeded task’s events equals GET, for open and completed tasks', async () => {
    const open = (await get('/api/v1/tasks?limit=3&tagged=true')).items;
    const done = (await get('/api/v1/tasks?status=completed&limit=3')).items;
    for (const task of [...open, ...done]) {
      const events = (await get(`/api/v1/tasks/${task.id}/history`)).items.map(
        (e: {
          type: string;
          aggregate_id: string;
          aggregate_version: number;
          occurred_at: string;
          data: Record<string, unknown>;
        }) => ({
          type: e.type,
          aggregateId: e.aggregate_id,
          aggregateVersion: e.aggregate_version,
          occurredAt: new Date(e.occurred_at),
          data: e.data,
        }),
      );
      const { search: _search, ...view } = task;
      expect(foldTaskEvents(events)).toEqual(view);
    }
  });

  it('leaves the derived search columns right: tag filters, counts and search agree with the tags', async () => {
    const tags = (await get('/api/v1/tags')).items as Array<{ name: string; open_tasks: number }>;
    const work = tags.find((x) => x.name === 'work');
    expect(work?.open_tasks).toBeGreaterThan(0);
    const tagged = await get('/api/v1/tasks?tag=work&limit=200');
    expect(tagged.items.every((x: { tags: string[] }) => x.tags.includes('work'))).toBe(true);
    let n = 0;
    let cursor: string | null = null;
    do {
      const page: { items: unknown[]; next_cursor: string | null } = await get(
        `/api/v1/tasks?tag=work&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
      );
      n += page.items.length;
      cursor = page.next_cursor;
    } while (cursor);
    expect(n).toBe(work?.open_tasks);
    const found = await get('/api/v1/tasks?q=invoice&limit=5');
    expect(found.items.length).toBeGreaterThan(0);
    expect(found.items[0].search.title + found.items[0].search.snippet).toContain('<mark>');
  });
});
