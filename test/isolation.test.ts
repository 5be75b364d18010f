import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, describeWithDatabase, type Reply, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { expectProblem, problemFields, problemShape } from './support/problems.js';

type Attempt = { what: string; method: 'GET' | 'PATCH' | 'POST' | 'DELETE'; url: (id: string) => string; body?: unknown };

const taskRoutes: Attempt[] = [
  { what: 'read', method: 'GET', url: (id) => `/api/v1/tasks/${id}` },
  { what: 'change', method: 'PATCH', url: (id) => `/api/v1/tasks/${id}`, body: { title: 'hijacked' } },
  { what: 'complete', method: 'POST', url: (id) => `/api/v1/tasks/${id}/complete` },
  { what: 'reopen', method: 'POST', url: (id) => `/api/v1/tasks/${id}/reopen` },
  { what: 'delete', method: 'DELETE', url: (id) => `/api/v1/tasks/${id}` },
];

describeWithDatabase("isolation: one user never sees or changes another user's tasks", () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let bobApiToken: string;
  let aliceTask: { id: string; title: string; version: number; updated_at: string };
  let aliceCompletedTask: { id: string };

  beforeAll(async () => {
    t = await startTestApp();
    alice = await signUp(t.app);
    bob = await signUp(t.app);
    ({ body: aliceTask } = await call(t.app, 'POST', '/api/v1/tasks', {
      token: alice.token,
      body: { title: 'Alice: private plans', tags: ['secret'], due_date: '2026-12-24' },
    }));
    ({ body: aliceCompletedTask } = await call(t.app, 'POST', '/api/v1/tasks', {
      token: alice.token,
      body: { title: 'Alice: done already' },
    }));
    await call(t.app, 'POST', `/api/v1/tasks/${aliceCompletedTask.id}/complete`, { token: alice.token });
    await call(t.app, 'POST', '/api/v1/tasks', { token: bob.token, body: { title: 'Bob: his own task' } });
    ({
      body: { token: bobApiToken },
    } = await call(t.app, 'POST', '/api/v1/api-tokens', { token: bob.token, body: { name: 'bob-script' } }));
  });
  afterAll(async () => {
    await t.close();
    await t.database.drop();
  });

  const attempt = (token: string, route: Attempt, id: string, headers: Record<string, string> = {}): Promise<Reply> =>
    call(t.app, route.method, route.url(id), { token, body: route.body, headers });

  for (const route of taskRoutes) {
    it(`trying to ${route.what} another user's task answers 404 exactly like a task that does not exist`, async () => {
      for (const token of [bob.token, bobApiToken]) {
        const foreign = await attempt(token, route, aliceTask.id);
        const missing = await attempt(token, route, randomUUID());
        expectProblem(foreign, 404, 'not_found');
        expect(problemShape(foreign)).toEqual(problemShape(missing));
        expect(foreign.body.detail).not.toContain(alice.id);
      }
    });
  }

  it("If-Match on another user's task still answers 404, never revealing the task's version", async () => {
    for (const route of taskRoutes.filter((r) => r.method !== 'GET')) {
      for (const version of ['"1"', '"2"', '"99"']) {
        expectProblem(await attempt(bob.token, route, aliceTask.id, { 'if-match': version }), 404, 'not_found');
      }
    }
  });

  it("reopening another user's completed task answers 404 and leaves it completed", async () => {
    const res = await call(t.app, 'POST', `/api/v1/tasks/${aliceCompletedTask.id}/reopen`, { token: bob.token });
    expectProblem(res, 404, 'not_found');
    const own = await call(t.app, 'GET', `/api/v1/tasks/${aliceCompletedTask.id}`, { token: alice.token });
    expect(own.body).toMatchObject({ status: 'completed', version: 2 });
  });

  it("creating a task in another user's Inbox is refused like an unknown list (422 list_id)", async () => {
    const foreign = await call(t.app, 'POST', '/api/v1/tasks', {
      token: bob.token,
      body: { title: 'Planted in Alice inbox', list_id: alice.inboxListId },
    });
    const missing = await call(t.app, 'POST', '/api/v1/tasks', {
      token: bob.token,
      body: { title: 'Planted in Alice inbox', list_id: randomUUID() },
    });
    expectProblem(foreign, 422, 'validation_failed');
    expect(problemFields(foreign)).toEqual(['list_id']);
    expect(problemShape(foreign)).toEqual(problemShape(missing));
    const aliceList = await call(t.app, 'GET', '/api/v1/tasks?status=all&limit=200', { token: alice.token });
    expect(aliceList.body.items.map((x: { title: string }) => x.title)).not.toContain('Planted in Alice inbox');
  });

  it("the owner's task is unchanged after every attempt by another user", async () => {
    for (const route of taskRoutes) {
      await attempt(bob.token, route, aliceTask.id);
      await attempt(bobApiToken, route, aliceTask.id);
    }
    const own = await call(t.app, 'GET', `/api/v1/tasks/${aliceTask.id}`, { token: alice.token });
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      title: 'Alice: private plans',
      status: 'open',
      version: aliceTask.version,
      updated_at: aliceTask.updated_at,
      tags: ['secret'],
    });
  });

  it("listing tasks never shows another user's tasks, with a session or an API token, whatever the filter", async () => {
    const aliceIds = [aliceTask.id, aliceCompletedTask.id];
    for (const token of [bob.token, bobApiToken]) {
      for (const query of ['', '?status=all&limit=200', '?status=completed', `?status=all&list_id=${alice.inboxListId}`]) {
        const res = await call(t.app, 'GET', `/api/v1/tasks${query}`, { token });
        expect(res.status).toBe(200);
        const ids: string[] = res.body.items.map((x: { id: string }) => x.id);
        expect(ids.filter((id) => aliceIds.includes(id))).toEqual([]);
      }
      const own = await call(t.app, 'GET', '/api/v1/tasks?status=all', { token });
      expect(own.body.items.map((x: { title: string }) => x.title)).toContain('Bob: his own task');
      const inAliceInbox = await call(t.app, 'GET', `/api/v1/tasks?status=all&list_id=${alice.inboxListId}`, { token });
      expect(inAliceInbox.body).toEqual({ items: [], next_cursor: null });
    }
    // Not vacuous: the owner does see them.
    const aliceView = await call(t.app, 'GET', '/api/v1/tasks?status=all', { token: alice.token });
    expect(aliceView.body.items.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining(aliceIds));
  });

  it("reusing another user's Idempotency-Key creates the caller's own task, never replaying theirs", async () => {
    const headers = { 'idempotency-key': 'shared-key-1' };
    const body = { title: 'Same request, two users' };
    const first = await call(t.app, 'POST', '/api/v1/tasks', { token: alice.token, body, headers });
    const second = await call(t.app, 'POST', '/api/v1/tasks', { token: bob.token, body, headers });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers['idempotent-replayed']).toBeUndefined();
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.list_id).toBe(bob.inboxListId);
  });

  it("another user's lists are not among the lists a user can see", async () => {
    const lists = await call(t.app, 'GET', '/api/v1/lists', { token: bobApiToken });
    expect(lists.body.items.map((l: { id: string }) => l.id)).toEqual([bob.inboxListId]);
  });
});
