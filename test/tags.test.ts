// Tags through HTTP: CRUD with per-user case-insensitive names, open-task counts, adding and
// removing tags on a task, and renames/deletes that keep every affected task's history true
// (folding its events still equals GET /tasks/{id}) and its search document current.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { foldTaskEvents } from '../src/tasks/fold.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { expectProblem, problemFields, problemShape } from './support/problems.js';

interface Entry {
  event_id: string;
  type: string;
  aggregate_id: string;
  aggregate_version: number;
  occurred_at: string;
  causation_id: string | null;
  data: Record<string, unknown>;
  summary: string;
}

describeWithDatabase('tags', () => {
  const clock = new ManualClock('2026-05-01T09:00:00Z');
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await startTestApp({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '100000000' } });
    [alice, bob] = await Promise.all([signUp(t.app), signUp(t.app)]);
  });
  afterAll(() => t.close());

  const ok = async (user: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => {
    const res = await call(t.app, method, url, { token: user.token, body });
    expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    clock.advance(60_000);
    return res.body;
  };
  const tagsOf = async (user: TestUser) => (await ok(user, 'GET', '/api/v1/tags')).items as Array<Record<string, unknown>>;
  const history = async (user: TestUser, taskId: string): Promise<Entry[]> =>
    (await ok(user, 'GET', `/api/v1/tasks/${taskId}/history`)).items;
  const expectFoldEqualsGet = async (user: TestUser, taskId: string) => {
    const events = (await history(user, taskId)).map((e) => ({
      type: e.type,
      aggregateId: e.aggregate_id,
      aggregateVersion: e.aggregate_version,
      occurredAt: new Date(e.occurred_at),
      data: e.data,
    }));
    expect(foldTaskEvents(events)).toEqual(await ok(user, 'GET', `/api/v1/tasks/${taskId}`));
  };

  it('creates tags with unique names per user, ignoring case; another user may use the same name', async () => {
    const created = await call(t.app, 'POST', '/api/v1/tags', {
      token: alice.token,
      body: { name: '#Errands', color: '#FF8800' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/tags/${created.body.id}`);
    expect(created.body).toMatchObject({ name: 'Errands', color: '#ff8800', open_tasks: 0, version: 1 });
    const again = await call(t.app, 'POST', '/api/v1/tags', { token: alice.token, body: { name: 'errands' } });
    expectProblem(again, 409, 'conflict');
    expect(problemFields(again)).toEqual(['name']);
    const bobs = await call(t.app, 'POST', '/api/v1/tags', { token: bob.token, body: { name: 'errands' } });
    expect(bobs.status).toBe(201);
    for (const body of [{ name: '' }, { name: 'x'.repeat(101) }, { name: 'ok', color: 'red' }, { name: 'ok', extra: 1 }]) {
      expectProblem(await call(t.app, 'POST', '/api/v1/tags', { token: alice.token, body }), 422, 'validation_failed');
    }
  });

  it('lists tags by name with the number of open tasks carrying each', async () => {
    const user = await signUp(t.app);
    await ok(user, 'POST', '/api/v1/tasks', { title: 'a', tags: ['work', 'Zeta'] });
    await ok(user, 'POST', '/api/v1/tasks', { title: 'b', tags: ['work'] });
    const done = await ok(user, 'POST', '/api/v1/tasks', { title: 'c', tags: ['work', 'alpha'] });
    await ok(user, 'POST', `/api/v1/tasks/${done.id}/complete`);
    await ok(user, 'POST', '/api/v1/tags', { name: 'unused' });
    const tags = await tagsOf(user);
    expect(tags.map((x) => [x.name, x.open_tasks])).toEqual([
      ['alpha', 0],
      ['unused', 0],
      ['work', 2],
      ['Zeta', 1],
    ]);
  });

  it('open-task counts follow create, tag, untag, edit, complete, reopen, delete, restore, rename and tag deletion', async () => {
    const user = await signUp(t.app);
    const counts = async () =>
      Object.fromEntries((await tagsOf(user)).map((x) => [x.name, x.open_tasks])) as Record<string, number>;
    // The counters (migration 0007) against counting the open tasks themselves, as GET /tags did before.
    const expectCountsTrue = async (expected: Record<string, number>) => {
      const listed = await counts();
      expect(listed).toEqual(expected);
      for (const [name, n] of Object.entries(listed)) {
        const row = await t.app.database.db
          .selectFrom('tasks')
          .innerJoin('lists', 'lists.id', 'tasks.list_id')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('lists.owner_id', '=', user.id)
          .where('tasks.status', '=', 'open')
          .where(sql<boolean>`tasks.tag_keys @> ARRAY[${name.toLowerCase()}::text]`)
          .executeTakeFirstOrThrow();
        expect(Number(row.n), name).toBe(n);
      }
    };
    const a = await ok(user, 'POST', '/api/v1/tasks', { title: 'a', tags: ['work', 'Home'] });
    const b = await ok(user, 'POST', '/api/v1/tasks', { title: 'b', tags: ['work'] });
    await expectCountsTrue({ Home: 1, work: 2 });
    await ok(user, 'POST', `/api/v1/tasks/${b.id}/tags`, { tags: ['home'] });
    await expectCountsTrue({ Home: 2, work: 2 });
    await ok(user, 'DELETE', `/api/v1/tasks/${a.id}/tags/WORK`);
    await expectCountsTrue({ Home: 2, work: 1 });
    await ok(user, 'PATCH', `/api/v1/tasks/${a.id}`, { tags: ['home', 'new'] });
    await expectCountsTrue({ Home: 2, new: 1, work: 1 });
    await ok(user, 'PATCH', `/api/v1/tasks/${a.id}`, { title: 'a, renamed' });
    await expectCountsTrue({ Home: 2, new: 1, work: 1 });
    await ok(user, 'POST', `/api/v1/tasks/${b.id}/complete`);
    await expectCountsTrue({ Home: 1, new: 1, work: 0 });
    await ok(user, 'POST', `/api/v1/tasks/${b.id}/reopen`);
    await expectCountsTrue({ Home: 2, new: 1, work: 1 });
    await ok(user, 'DELETE', `/api/v1/tasks/${a.id}`);
    await expectCountsTrue({ Home: 1, new: 0, work: 1 });
    await ok(user, 'POST', `/api/v1/tasks/${a.id}/restore`);
    await expectCountsTrue({ Home: 2, new: 1, work: 1 });
    const home = (await tagsOf(user)).find((x) => x.name === 'Home');
    await ok(user, 'PATCH', `/api/v1/tags/${home?.id}`, { name: 'House' });
    await expectCountsTrue({ House: 2, new: 1, work: 1 });
    await ok(user, 'DELETE', `/api/v1/tags/${home?.id}`);
    await expectCountsTrue({ new: 1, work: 1 });
    // A completed task deleted, then restored: never counted.
    await ok(user, 'POST', `/api/v1/tasks/${b.id}/complete`);
    await ok(user, 'DELETE', `/api/v1/tasks/${b.id}`);
    await ok(user, 'POST', `/api/v1/tasks/${b.id}/restore`);
    await expectCountsTrue({ new: 1, work: 0 });
    // Another user's task with a tag of the same name counts for them only.
    const other = await signUp(t.app);
    await ok(other, 'POST', '/api/v1/tasks', { title: 'theirs', tags: ['new', 'work'] });
    await expectCountsTrue({ new: 1, work: 0 });
    expect((await tagsOf(other)).map((x) => [x.name, x.open_tasks])).toEqual([
      ['new', 1],
      ['work', 1],
    ]);
  });

  it('open-task counts stay exact under concurrent writes to the same tags', async () => {
    const user = await signUp(t.app);
    const create = (i: number) =>
      call(t.app, 'POST', '/api/v1/tasks', {
        token: user.token,
        body: { title: `t${i}`, tags: i % 2 ? ['odd', 'all'] : ['all'] },
      });
    const created = await Promise.all(Array.from({ length: 16 }, (_, i) => create(i)));
    expect(created.map((r) => r.status)).toEqual(Array(16).fill(201));
    const ids = created.map((r) => r.body.id as string);
    // Completes, untags and deletes at once, each touching the same counter rows.
    const writes = await Promise.all([
      ...ids.slice(0, 4).map((id) => call(t.app, 'POST', `/api/v1/tasks/${id}/complete`, { token: user.token })),
      ...ids.slice(4, 8).map((id) => call(t.app, 'DELETE', `/api/v1/tasks/${id}/tags/all`, { token: user.token })),
      ...ids.slice(8, 10).map((id) => call(t.app, 'DELETE', `/api/v1/tasks/${id}`, { token: user.token })),
    ]);
    expect(writes.every((r) => r.status < 300)).toBe(true);
    const listed = Object.fromEntries((await tagsOf(user)).map((x) => [x.name, x.open_tasks]));
    // "all": 16 - 4 completed - 4 untagged - 2 deleted; "odd": 1, 3, …, 15 but 1, 3 (completed) and 9 (deleted).
    const open = await t.app.database.db
      .selectFrom('tasks')
      .select(['tag_keys'])
      .where('created_by', '=', user.id)
      .where('status', '=', 'open')
      .execute();
    const count = (key: string) => open.filter((row) => row.tag_keys.includes(key)).length;
    expect(listed).toEqual({ all: count('all'), odd: count('odd') });
    expect(listed).toEqual({ all: 6, odd: 5 });
  });

  it('adds and removes tags on a task, each a task.updated change', async () => {
    const task = await ok(alice, 'POST', '/api/v1/tasks', { title: 'Tag me', tags: ['one'] });
    const added = await ok(alice, 'POST', `/api/v1/tasks/${task.id}/tags`, { tags: ['Two', 'ONE', '#three'] });
    expect(added).toMatchObject({ tags: ['one', 'three', 'Two'], version: 2 });
    const removed = await ok(alice, 'DELETE', `/api/v1/tasks/${task.id}/tags/TWO`);
    expect(removed).toMatchObject({ tags: ['one', 'three'], version: 3 });
    const unchanged = await ok(alice, 'DELETE', `/api/v1/tasks/${task.id}/tags/never`);
    expect(unchanged.version).toBe(3);
    const stale = await call(t.app, 'POST', `/api/v1/tasks/${task.id}/tags`, {
      token: alice.token,
      body: { tags: ['four'] },
      headers: { 'if-match': '"1"' },
    });
    expectProblem(stale, 412, 'version_conflict');
    const summaries = (await history(alice, task.id)).map((e) => e.summary);
    expect(summaries).toEqual(["Created 'Tag me'", "Added tags three and Two to 'Tag me'", "Removed tag Two from 'Tag me'"]);
    await expectFoldEqualsGet(alice, task.id);
  });

  it('a rename shows on every task, bumps each version with a task.updated caused by tag.renamed, and keeps folds true', async () => {
    const user = await signUp(t.app);
    const first = await ok(user, 'POST', '/api/v1/tasks', { title: 'First', tags: ['job', 'home'] });
    const second = await ok(user, 'POST', '/api/v1/tasks', { title: 'Second', tags: ['Job'] });
    const other = await ok(user, 'POST', '/api/v1/tasks', { title: 'Other', tags: ['home'] });
    const job = (await tagsOf(user)).find((x) => x.name === 'job') as { id: string };

    const renamed = await ok(user, 'PATCH', `/api/v1/tags/${job.id}`, { name: 'Work' });
    expect(renamed).toMatchObject({ name: 'Work', open_tasks: 2, version: 2 });
    expect(await ok(user, 'GET', `/api/v1/tasks/${first.id}`)).toMatchObject({ tags: ['home', 'Work'], version: 2 });
    expect(await ok(user, 'GET', `/api/v1/tasks/${second.id}`)).toMatchObject({ tags: ['Work'], version: 2 });
    expect((await ok(user, 'GET', `/api/v1/tasks/${other.id}`)).version).toBe(1);

    const feed = (await ok(user, 'GET', `/api/v1/activity?type=tag.renamed`)).items as Entry[];
    expect(feed.map((e) => e.summary)).toEqual(["Renamed tag 'job' to 'Work'"]);
    const [update] = (await history(user, first.id)).slice(-1);
    expect(update).toMatchObject({
      type: 'task.updated',
      causation_id: feed[0]?.event_id,
      data: { before: { tags: ['home', 'job'] }, after: { tags: ['home', 'Work'] } },
    });
    for (const task of [first, second]) await expectFoldEqualsGet(user, task.id);

    // Search and filters follow the new name at once.
    const found = await ok(user, 'GET', '/api/v1/tasks?q=work');
    expect(found.items.map((x: { title: string }) => x.title).sort()).toEqual(['First', 'Second']);
    expect((await ok(user, 'GET', '/api/v1/tasks?q=job')).items).toEqual([]);
    expect((await ok(user, 'GET', '/api/v1/tasks?tag=work')).items).toHaveLength(2);

    // Case-only rename is allowed; a clash with another tag is not.
    expect(await ok(user, 'PATCH', `/api/v1/tags/${job.id}`, { name: 'work' })).toMatchObject({ name: 'work', version: 3 });
    const clash = await call(t.app, 'PATCH', `/api/v1/tags/${job.id}`, { token: user.token, body: { name: 'HOME' } });
    expectProblem(clash, 409, 'conflict');
  });

  it('recoloring changes no task; deleting removes the tag from every task with true history', async () => {
    const user = await signUp(t.app);
    const task = await ok(user, 'POST', '/api/v1/tasks', { title: 'Doomed tag', tags: ['temp', 'keep'] });
    const temp = (await tagsOf(user)).find((x) => x.name === 'temp') as { id: string };
    const recolored = await ok(user, 'PATCH', `/api/v1/tags/${temp.id}`, { color: '#00aa00' });
    expect(recolored).toMatchObject({ color: '#00aa00', version: 2 });
    expect((await ok(user, 'PATCH', `/api/v1/tags/${temp.id}`, { color: null })).color).toBeNull();
    expect((await ok(user, 'GET', `/api/v1/tasks/${task.id}`)).version).toBe(1);

    const deleted = await call(t.app, 'DELETE', `/api/v1/tags/${temp.id}`, { token: user.token });
    expect(deleted.status).toBe(204);
    expect(await ok(user, 'GET', `/api/v1/tasks/${task.id}`)).toMatchObject({ tags: ['keep'], version: 2 });
    expect((await tagsOf(user)).map((x) => x.name)).toEqual(['keep']);
    expectProblem(await call(t.app, 'GET', `/api/v1/tags/${temp.id}`, { token: user.token }), 404, 'not_found');
    const summaries = (await ok(user, 'GET', '/api/v1/activity?type=tag.*')).items.map((e: Entry) => e.summary);
    expect(summaries).toEqual([
      "Deleted tag 'temp'",
      "Removed the color of tag 'temp'",
      "Changed the color of tag 'temp' to #00aa00",
      "Created tag 'keep'",
      "Created tag 'temp'",
    ]);
    await expectFoldEqualsGet(user, task.id);
    expect((await ok(user, 'GET', '/api/v1/tasks?q=temp')).items).toEqual([]);
  });

  it('another user’s tag is indistinguishable from a missing one, and never listed', async () => {
    const secret = await ok(alice, 'POST', '/api/v1/tags', { name: 'alice-only' });
    expect((await tagsOf(bob)).map((x) => x.name)).not.toContain('alice-only');
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'stolen' }],
      ['DELETE', undefined],
    ] as const) {
      const foreign = await call(t.app, method, `/api/v1/tags/${secret.id}`, { token: bob.token, body });
      const missing = await call(t.app, method, `/api/v1/tags/${randomUUID()}`, { token: bob.token, body });
      expectProblem(foreign, 404, 'not_found');
      expect(problemShape(foreign)).toEqual(problemShape(missing));
    }
    const aliceTask = await ok(alice, 'POST', '/api/v1/tasks', { title: 'Mine' });
    const tagging = await call(t.app, 'POST', `/api/v1/tasks/${aliceTask.id}/tags`, { token: bob.token, body: { tags: ['x'] } });
    expectProblem(tagging, 404, 'not_found');
    expect((await ok(alice, 'GET', `/api/v1/tags/${secret.id}`)).name).toBe('alice-only');
  });
});
