import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { expectProblem, problemFields } from './support/problems.js';

type FieldCase = { what: string; body: Record<string, unknown>; field: string };

/** Bad values for fields that POST and PATCH share; each names the field it must blame. */
const sharedFieldCases: FieldCase[] = [
  { what: 'an empty title', body: { title: '' }, field: 'title' },
  { what: 'a title of only spaces', body: { title: '   ' }, field: 'title' },
  { what: 'a 501-character title', body: { title: 'x'.repeat(501) }, field: 'title' },
  { what: 'a numeric title', body: { title: 42 }, field: 'title' },
  { what: 'a null title', body: { title: null }, field: 'title' },
  { what: 'a 20001-character description', body: { description: 'd'.repeat(20_001) }, field: 'description' },
  { what: 'an unknown priority', body: { priority: 'critical' }, field: 'priority' },
  { what: 'a priority of the wrong type', body: { priority: 3 }, field: 'priority' },
  { what: 'a time zone that does not exist', body: { time_zone: 'Mars/Olympus' }, field: 'time_zone' },
  { what: 'a due date that is not on the calendar', body: { due_date: '2026-02-30' }, field: 'due_date' },
  { what: 'a due date with slashes', body: { due_date: '2026/01/01' }, field: 'due_date' },
  { what: 'a due time in words', body: { due_at: 'tomorrow' }, field: 'due_at' },
  { what: 'a due time in month 13', body: { due_at: '2026-13-01T10:00' }, field: 'due_at' },
  // Like due_date, a due time must be on the calendar, not rolled over to March 2nd.
  { what: 'a due time on February 30th', body: { due_at: '2026-02-30T10:00' }, field: 'due_at' },
  { what: 'both a due date and a due time', body: { due_date: '2026-06-01', due_at: '2026-06-01T10:00' }, field: 'due_at' },
  { what: 'tags that are not an array', body: { tags: 'work' }, field: 'tags' },
  { what: 'a 101-character tag', body: { tags: ['ok', 't'.repeat(101)] }, field: 'tags.1' },
  { what: '51 tags', body: { tags: Array.from({ length: 51 }, (_, i) => `tag${i}`) }, field: 'tags' },
  { what: 'an unknown field', body: { colour: 'red' }, field: 'colour' },
];

const createCases: FieldCase[] = [
  ...sharedFieldCases.map((c) => ({ ...c, body: { title: 'Valid title', ...c.body } })),
  { what: 'no title at all', body: { priority: 'high' }, field: 'title' },
  { what: 'a list id that is not a uuid', body: { title: 'Valid title', list_id: 'inbox' }, field: 'list_id' },
];

const updateCases: FieldCase[] = [
  ...sharedFieldCases,
  // A task's list is not changed through PATCH: list_id is not a field there.
  { what: 'a list id', body: { list_id: randomUUID() }, field: 'list_id' },
];

describeWithDatabase('validation: bad input is refused with 422 naming the field, and nothing is written', () => {
  let t: TestApp;
  let editor: TestUser;

  beforeAll(async () => {
    t = await startTestApp();
    editor = await signUp(t.app);
  });
  afterAll(async () => {
    await t.close();
    await t.database.drop();
  });

  const allTasksOf = async (user: TestUser) =>
    (await call(t.app, 'GET', '/api/v1/tasks?status=all&limit=200', { token: user.token })).body.items;

  /** A fresh task of the editor's, so that a case that wrongly succeeds cannot spoil the next one. */
  const untouchableTask = async (): Promise<{ id: string; version: number; updated_at: string }> =>
    (
      await call(t.app, 'POST', '/api/v1/tasks', {
        token: editor.token,
        body: { title: 'Untouchable', priority: 'low', tags: ['keep'], due_date: '2026-05-01' },
      })
    ).body;

  const expectUnchanged = async (task: { id: string; version: number; updated_at: string }) => {
    const current = await call(t.app, 'GET', `/api/v1/tasks/${task.id}`, { token: editor.token });
    expect(current.body).toMatchObject({
      title: 'Untouchable',
      status: 'open',
      due_date: '2026-05-01',
      version: task.version,
      updated_at: task.updated_at,
    });
  };

  describe('POST /api/v1/tasks', () => {
    for (const { what, body, field } of createCases) {
      it(`refuses ${what} with 422 on ${field} and creates nothing`, async () => {
        // A user of its own, whose task list must stay empty.
        const creator = await signUp(t.app);
        const res = await call(t.app, 'POST', '/api/v1/tasks', { token: creator.token, body });
        expectProblem(res, 422, 'validation_failed');
        expect(problemFields(res)).toContain(field);
        expect(await allTasksOf(creator)).toEqual([]);
      });
    }

    it('refuses a malformed JSON body with 400 malformed_json', async () => {
      const creator = await signUp(t.app);
      const res = await call(t.app, 'POST', '/api/v1/tasks', { token: creator.token, rawBody: '{"title": "half' });
      expectProblem(res, 400, 'malformed_json');
      expect(await allTasksOf(creator)).toEqual([]);
    });

    it('reports every bad field of a request at once', async () => {
      const res = await call(t.app, 'POST', '/api/v1/tasks', {
        token: editor.token,
        body: { title: '', priority: 'critical', due_date: '2026/01/01' },
      });
      expectProblem(res, 422, 'validation_failed');
      expect(problemFields(res)).toEqual(expect.arrayContaining(['title', 'priority', 'due_date']));
    });
  });

  describe('PATCH /api/v1/tasks/:id', () => {
    for (const { what, body, field } of updateCases) {
      it(`refuses ${what} with 422 on ${field} and leaves the task as it was`, async () => {
        const task = await untouchableTask();
        const res = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: editor.token, body });
        expectProblem(res, 422, 'validation_failed');
        expect(problemFields(res)).toContain(field);
        await expectUnchanged(task);
      });
    }

    it('refuses an empty body with 422, since there is nothing to change', async () => {
      const task = await untouchableTask();
      const res = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: editor.token, body: {} });
      expectProblem(res, 422, 'validation_failed');
      // The rule is about the body as a whole, so no single field is named.
      expect(problemFields(res)).toEqual(['(root)']);
    });

    it('refuses a malformed JSON body with 400 malformed_json', async () => {
      const task = await untouchableTask();
      const res = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: editor.token, rawBody: '{title: nope}' });
      expectProblem(res, 400, 'malformed_json');
    });
  });

  describe('GET /api/v1/tasks query', () => {
    for (const { query, field } of [
      { query: 'limit=0', field: 'query.limit' },
      { query: 'limit=1000', field: 'query.limit' },
      { query: 'limit=ten', field: 'query.limit' },
      { query: 'status=bogus', field: 'query.status' },
      { query: 'list_id=inbox', field: 'query.list_id' },
      { query: 'sort=bogus', field: 'query.sort' },
      { query: 'cursor=garbage', field: 'query.cursor' },
      { query: `cursor=${Buffer.from('{"createdAt":"yesterday","id":"x"}').toString('base64url')}`, field: 'query.cursor' },
    ]) {
      it(`refuses ?${query.slice(0, 30)} with 422 on ${field}`, async () => {
        const res = await call(t.app, 'GET', `/api/v1/tasks?${query}`, { token: editor.token });
        expectProblem(res, 422, 'validation_failed');
        expect(problemFields(res)).toContain(field);
      });
    }
  });

  describe('path and headers', () => {
    const routes = [
      { name: 'GET /tasks/:id', method: 'GET', url: (id: string) => `/api/v1/tasks/${id}` },
      { name: 'PATCH /tasks/:id', method: 'PATCH', url: (id: string) => `/api/v1/tasks/${id}`, body: { title: 'x' } },
      { name: 'POST /tasks/:id/complete', method: 'POST', url: (id: string) => `/api/v1/tasks/${id}/complete` },
      { name: 'POST /tasks/:id/reopen', method: 'POST', url: (id: string) => `/api/v1/tasks/${id}/reopen` },
      { name: 'DELETE /tasks/:id', method: 'DELETE', url: (id: string) => `/api/v1/tasks/${id}` },
    ] as const;
    const bodyOf = (route: (typeof routes)[number]) => ('body' in route ? route.body : undefined);

    for (const route of routes) {
      it(`${route.name} with an id that is not a uuid answers 422 on path.id`, async () => {
        const res = await call(t.app, route.method, route.url('not-a-uuid'), { token: editor.token, body: bodyOf(route) });
        expectProblem(res, 422, 'validation_failed');
        expect(problemFields(res)).toEqual(['path.id']);
      });
    }

    for (const route of routes.filter((r) => r.method !== 'GET')) {
      it(`${route.name} with a garbage If-Match answers 422 on header.if-match and changes nothing`, async () => {
        const task = await untouchableTask();
        const res = await call(t.app, route.method, route.url(task.id), {
          token: editor.token,
          body: bodyOf(route),
          headers: { 'if-match': 'garbage' },
        });
        expectProblem(res, 422, 'validation_failed');
        expect(problemFields(res)).toEqual(['header.if-match']);
        await expectUnchanged(task);
      });
    }
  });
});

describeWithDatabase('validation: request bodies over BODY_LIMIT_BYTES', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await startTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
    user = await signUp(t.app);
  });
  afterAll(async () => {
    await t.close();
    await t.database.drop();
  });

  it('a 5 KB task from a signed-in user answers 413 payload_too_large and creates nothing', async () => {
    const res = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'Too big', description: 'x'.repeat(5 * 1024) },
    });
    expectProblem(res, 413, 'payload_too_large');
    const list = await call(t.app, 'GET', '/api/v1/tasks?status=all', { token: user.token });
    expect(list.body.items.map((x: { title: string }) => x.title)).not.toContain('Too big');
  });

  it('a body under the limit is accepted by the same app', async () => {
    const res = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'Small enough', description: 'x'.repeat(1024) },
    });
    expect(res.status).toBe(201);
  });
});
