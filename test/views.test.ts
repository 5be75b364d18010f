// Saved views through HTTP: CRUD with per-user names, filters validated on save (422 with
// the column), applying a view to GET /tasks (its filter, and its sort unless overridden),
// events for every change, and isolation between users.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { expectProblem, problemFields, problemShape } from './support/problems.js';

describeWithDatabase('saved views', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    [alice, bob] = await Promise.all([signUp(t.app), signUp(t.app)]);
  });
  afterAll(() => t.close());

  const ok = async (user: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => {
    const res = await call(t.app, method, url, { token: user.token, body });
    expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    return res.body;
  };

  it('creates, reads, lists, updates and deletes a view, with an event for each change', async () => {
    const user = await signUp(t.app);
    const created = await call(t.app, 'POST', '/api/v1/views', {
      token: user.token,
      body: { name: ' Focus ', filter: '(today | overdue) & !p4', sort: 'priority' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'Focus',
      filter: '(today | overdue) & !p4',
      sort: 'priority',
      order: null,
      version: 1,
    });
    expect(await ok(user, 'GET', `/api/v1/views/${created.body.id}`)).toEqual(created.body);
    await ok(user, 'POST', '/api/v1/views', { name: 'all work', filter: '#work' });
    expect((await ok(user, 'GET', '/api/v1/views')).items.map((v: { name: string }) => v.name)).toEqual(['all work', 'Focus']);

    const updated = await ok(user, 'PATCH', `/api/v1/views/${created.body.id}`, { name: 'Deep focus', order: 'asc' });
    expect(updated).toMatchObject({ name: 'Deep focus', sort: 'priority', order: 'asc', version: 2 });
    expect((await ok(user, 'PATCH', `/api/v1/views/${created.body.id}`, { name: 'Deep focus' })).version).toBe(2);
    expect((await call(t.app, 'DELETE', `/api/v1/views/${created.body.id}`, { token: user.token })).status).toBe(204);
    expectProblem(await call(t.app, 'GET', `/api/v1/views/${created.body.id}`, { token: user.token }), 404, 'not_found');

    const feed = (await ok(user, 'GET', '/api/v1/activity?type=view.*')).items;
    expect(feed.map((e: { summary: string }) => e.summary)).toEqual([
      "Deleted view 'Deep focus'",
      "Renamed view 'Focus' to 'Deep focus'",
      "Saved view 'all work'",
      "Saved view 'Focus'",
    ]);
    expect(feed[1].data).toEqual({ before: { name: 'Focus', order: null }, after: { name: 'Deep focus', order: 'asc' } });
  });

  it('refuses a duplicate name (ignoring case) and a filter with a syntax error, naming the column', async () => {
    await ok(alice, 'POST', '/api/v1/views', { name: 'Inbox zero' });
    expectProblem(
      await call(t.app, 'POST', '/api/v1/views', { token: alice.token, body: { name: 'INBOX ZERO' } }),
      409,
      'conflict',
    );
    const bad = await call(t.app, 'POST', '/api/v1/views', {
      token: alice.token,
      body: { name: 'Broken', filter: 'today & (p1 | ' },
    });
    expectProblem(bad, 422, 'validation_failed');
    expect(problemFields(bad)).toEqual(['filter']);
    expect(bad.body.column).toBe(15); // one past the end: a term is missing
    for (const body of [{ name: 'x', sort: 'size' }, { name: 'x', order: 'up' }, { name: '' }, {}]) {
      expectProblem(await call(t.app, 'POST', '/api/v1/views', { token: alice.token, body }), 422, 'validation_failed');
    }
  });

  it('GET /tasks?view_id applies the view’s filter and sort; query parameters add filters and may override the sort', async () => {
    const user = await signUp(t.app);
    for (const [title, priority, tags] of [
      ['a work', 'low', ['work']],
      ['b work', 'urgent', ['work']],
      ['c home', 'high', ['home']],
      ['d work', 'high', ['work']],
    ] as const) {
      await ok(user, 'POST', '/api/v1/tasks', { title, priority, tags });
    }
    const view = await ok(user, 'POST', '/api/v1/views', { name: 'Work by priority', filter: '#work', sort: 'priority' });
    const titles = async (query: string) =>
      (await ok(user, 'GET', `/api/v1/tasks?view_id=${view.id}${query}`)).items.map((x: { title: string }) => x.title);
    expect(await titles('')).toEqual(['b work', 'd work', 'a work']);
    expect(await titles('&priority=high,urgent')).toEqual(['b work', 'd work']);
    expect(await titles('&sort=title')).toEqual(['a work', 'b work', 'd work']);
    expect(await titles('&order=asc')).toEqual(['a work', 'd work', 'b work']);
    const paged = await ok(user, 'GET', `/api/v1/tasks?view_id=${view.id}&limit=2`);
    const rest = await ok(user, 'GET', `/api/v1/tasks?view_id=${view.id}&limit=2&cursor=${paged.next_cursor}`);
    expect(rest.items.map((x: { title: string }) => x.title)).toEqual(['a work']);
  });

  it('another user’s view is indistinguishable from a missing one, and cannot be applied', async () => {
    const secret = await ok(alice, 'POST', '/api/v1/views', { name: 'Secret', filter: '#secret' });
    expect((await ok(bob, 'GET', '/api/v1/views')).items).toEqual([]);
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'mine now' }],
      ['DELETE', undefined],
    ] as const) {
      const foreign = await call(t.app, method, `/api/v1/views/${secret.id}`, { token: bob.token, body });
      const missing = await call(t.app, method, `/api/v1/views/${randomUUID()}`, { token: bob.token, body });
      expectProblem(foreign, 404, 'not_found');
      expect(problemShape(foreign)).toEqual(problemShape(missing));
    }
    const applied = await call(t.app, 'GET', `/api/v1/tasks?view_id=${secret.id}`, { token: bob.token });
    expectProblem(applied, 422, 'validation_failed');
    expect(problemFields(applied)).toEqual(['query.view_id']);
    expect((await ok(alice, 'GET', `/api/v1/views/${secret.id}`)).name).toBe('Secret');
  });
});
