// The activity feed, task history (and time travel) and undo, through HTTP on a real
// database. A manual clock makes occurred_at predictable; every test builds its own tasks
// (and, where totals matter, its own user) so that tests stay independent.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { foldTaskEvents } from '../src/tasks/fold.js';
import { call, describeWithDatabase, type Reply, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { expectProblem, problemFields, problemShape } from './support/problems.js';

type Entry = {
  cursor: string;
  seq: string;
  event_id: string;
  type: string;
  occurred_at: string;
  aggregate_id: string;
  aggregate_version: number;
  correlation_id: string | null;
  causation_id: string | null;
  data: Record<string, unknown>;
  summary: string;
};

describeWithDatabase('activity feed, task history and undo', () => {
  const clock = new ManualClock('2026-03-01T08:00:00Z');
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    // The clock moves hours during this file; keep access tokens valid throughout.
    t = await startTestApp({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '100000000' } });
    alice = await signUp(t.app, { time_zone: 'Europe/Berlin' });
    bob = await signUp(t.app);
  });
  afterAll(async () => {
    await t.close();
    await t.database.drop();
  });

  const tick = (ms = 60_000) => clock.advance(ms);

  /** One call that must succeed; ticks the clock afterwards so every change has its own instant. */
  const ok = async (user: TestUser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers = {}) => {
    const res = await call(t.app, method, url, { token: user.token, body, headers });
    expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
    if (method !== 'GET') tick();
    return res.body;
  };
  const createTask = (user: TestUser, body: Record<string, unknown>, headers = {}) =>
    ok(user, 'POST', '/api/v1/tasks', body, headers);
  const activity = (user: TestUser, query: string): Promise<Reply<{ items: Entry[]; next_cursor: string | null }>> =>
    call(t.app, 'GET', `/api/v1/activity?${query}`, { token: user.token });
  const feed = async (user: TestUser, query: string) => {
    const res = await activity(user, query);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.items;
  };
  const history = async (user: TestUser, taskId: string): Promise<Entry[]> =>
    (await ok(user, 'GET', `/api/v1/tasks/${taskId}/history`)).items;
  const taskAt = (user: TestUser, taskId: string, time: string) =>
    call(t.app, 'GET', `/api/v1/tasks/${taskId}/history/at?time=${encodeURIComponent(time)}`, { token: user.token });

  /** A task with a life: created, edited field by field, completed, reopened, deleted. */
  async function taskWithALife(user: TestUser) {
    const createdAt = clock.now().toISOString();
    const task = await createTask(user, { title: 'Pay rent', priority: 'low', due_date: '2026-12-01', tags: ['home'] });
    const steps: Array<[string, unknown]> = [
      ['PATCH', { priority: 'high' }],
      ['PATCH', { due_date: '2026-12-03' }],
      ['PATCH', { due_at: '2026-12-03T09:00' }],
      ['PATCH', { due_at: null }],
      ['PATCH', { tags: ['work'] }],
      ['PATCH', { title: 'Pay the rent' }],
      ['complete', undefined],
      ['reopen', undefined],
    ];
    const times: string[] = [createdAt];
    for (const [step, body] of steps) {
      times.push(clock.now().toISOString());
      if (step === 'PATCH') await ok(user, 'PATCH', `/api/v1/tasks/${task.id}`, body);
      else await ok(user, 'POST', `/api/v1/tasks/${task.id}/${step}`);
    }
    times.push(clock.now().toISOString());
    await ok(user, 'DELETE', `/api/v1/tasks/${task.id}`);
    return { task, times };
  }

  it('the feed shows a task’s events newest first, each with a readable summary in the user’s zone', async () => {
    const { task } = await taskWithALife(alice);
    const items = await feed(alice, `task_id=${task.id}`);
    // Updates without a rename are named by the task's latest known title.
    expect(items.map((e) => e.summary)).toEqual([
      "Deleted 'Pay the rent'",
      "Reopened 'Pay the rent'",
      "Completed 'Pay the rent'",
      "Renamed 'Pay rent' to 'Pay the rent'",
      "Added tag work to 'Pay the rent' and removed tag home",
      "Cleared the due date of 'Pay the rent'",
      // 09:00 Berlin, shown in Alice's zone (Europe/Berlin).
      "Moved due date of 'Pay the rent' from 3 Dec 2026 to 3 Dec 2026, 09:00",
      "Moved due date of 'Pay the rent' from 1 Dec 2026 to 3 Dec 2026",
      "Changed priority of 'Pay the rent' from low to high",
      "Created 'Pay rent'",
    ]);
    expect(items.map((e) => e.aggregate_version)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(items[9]).toMatchObject({
      cursor: expect.any(String),
      seq: expect.stringMatching(/^\d+$/),
      event_id: expect.any(String),
      type: 'task.created',
      actor_id: alice.id,
      aggregate_type: 'task',
      aggregate_id: task.id,
      causation_id: null,
      data: { title: 'Pay rent', priority: 'low', tags: ['home'] },
    });
    const tagEvents = await feed(alice, 'type=tag.created');
    expect(tagEvents.map((e) => e.summary)).toEqual(expect.arrayContaining(["Created tag 'work'", "Created tag 'home'"]));
  });

  it('filters by one type, several (comma-separated or repeated) and a prefix', async () => {
    const { task } = await taskWithALife(alice);
    const types = async (query: string) => (await feed(alice, `task_id=${task.id}&${query}`)).map((e) => e.type);
    expect(await types('type=task.completed')).toEqual(['task.completed']);
    expect(await types('type=task.completed,task.reopened')).toEqual(['task.reopened', 'task.completed']);
    expect(await types('type=task.completed&type=task.reopened')).toEqual(['task.reopened', 'task.completed']);
    expect(await types('type=task.created,task.deleted')).toEqual(['task.deleted', 'task.created']);

    const everything = await feed(alice, 'limit=200');
    const tasksOnly = await feed(alice, 'type=task.*&limit=200');
    expect(tasksOnly.length).toBeGreaterThan(0);
    expect(tasksOnly.every((e) => e.type.startsWith('task.'))).toBe(true);
    expect(tasksOnly).toEqual(everything.filter((e) => e.type.startsWith('task.')));

    const unknown = await activity(alice, 'type=task.exploded');
    expectProblem(unknown, 422, 'validation_failed');
    expect(problemFields(unknown)[0]).toMatch(/^query\.type/);
  });

  it('filters by occurred_at: from is inclusive, to exclusive', async () => {
    const { task, times } = await taskWithALife(alice);
    // times[i] is when the task reached version i + 1.
    const versions = async (query: string) => (await feed(alice, `task_id=${task.id}&${query}`)).map((e) => e.aggregate_version);
    expect(await versions(`from=${times[2]}&to=${times[5]}`)).toEqual([5, 4, 3]);
    expect(await versions(`from=${times[9]}`)).toEqual([10]);
    expect(await versions(`to=${times[1]}`)).toEqual([1]);
    // An offset is an instant like any other: 1 h ahead of UTC, written as local time.
    const local = new Date(Date.parse(times[2] as string) + 3600_000).toISOString().replace('Z', '+01:00');
    expect(await versions(`from=${encodeURIComponent(local)}&to=${times[3]}`)).toEqual([3]);
    expectProblem(await activity(alice, 'from=yesterday'), 422, 'validation_failed');
  });

  it('filters by correlation id: the X-Request-Id of the request that made the change', async () => {
    const requestId = `activity-${randomUUID()}`;
    const task = await createTask(
      alice,
      { title: 'Correlated', tags: [`fresh-${randomUUID().slice(0, 8)}`] },
      { 'x-request-id': requestId },
    );
    await ok(alice, 'PATCH', `/api/v1/tasks/${task.id}`, { priority: 'urgent' });
    const items = await feed(alice, `correlation_id=${requestId}`);
    expect(items.map((e) => e.type)).toEqual(['task.created', 'tag.created']);
    expect(items.every((e) => e.correlation_id === requestId)).toBe(true);
  });

  it('pages through the whole feed without gaps or duplicates, even while new events arrive', async () => {
    const carol = await signUp(t.app);
    for (let i = 0; i < 9; i++) {
      const task = await createTask(carol, { title: `task ${i}` });
      await ok(carol, 'PATCH', `/api/v1/tasks/${task.id}`, { priority: 'low' });
    }
    const all = await feed(carol, 'limit=200');
    expect(all).toHaveLength(2 + 18); // user.registered + list.created, then 9 × (created + updated)

    const seen: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await activity(carol, `limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items);
      cursor = res.body.next_cursor;
      pages++;
      // New activity lands at the head of the feed, never inside the pages still to come.
      if (pages === 2) await createTask(carol, { title: 'arrives while paging' });
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen.map((e) => e.event_id)).toEqual(all.map((e) => e.event_id));
    const seqs = seen.map((e) => BigInt(e.seq));
    expect(seqs.every((s, i) => i === 0 || s < (seqs[i - 1] as bigint))).toBe(true);
    // An entry's own cursor continues right after it.
    const fromFifth = await feed(carol, `limit=3&cursor=${all[4]?.cursor}`);
    expect(fromFifth.map((e) => e.event_id)).toEqual(all.slice(5, 8).map((e) => e.event_id));

    expectProblem(await activity(carol, 'cursor=not-a-cursor'), 422, 'validation_failed');
    expectProblem(await activity(carol, 'limit=0'), 422, 'validation_failed');
    expectProblem(await activity(carol, 'limit=201'), 422, 'validation_failed');
  });

  it('the history of a deleted task is still readable, oldest first, titled as it was then', async () => {
    const { task } = await taskWithALife(alice);
    const items = await history(alice, task.id);
    expect(items.map((e) => e.type)).toEqual([
      'task.created',
      ...Array(6).fill('task.updated'),
      'task.completed',
      'task.reopened',
      'task.deleted',
    ]);
    expect(items.map((e) => e.aggregate_version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(items[1]?.summary).toBe("Changed priority of 'Pay rent' from low to high");
    expect(items[7]?.summary).toBe("Completed 'Pay the rent'");
    expectProblem(await call(t.app, 'GET', `/api/v1/tasks/${randomUUID()}/history`, { token: alice.token }), 404, 'not_found');
  });

  it('rebuilds the task as it was at a moment: not before creation, mid-way, not after deletion', async () => {
    const { task, times } = await taskWithALife(alice);
    const before = new Date(Date.parse(times[0] as string) - 1).toISOString();
    expectProblem(await taskAt(alice, task.id, before), 404, 'not_found');

    // Just after the due date moved to 3 Dec (version 3), before it became a due time.
    const midway = await taskAt(alice, task.id, new Date(Date.parse(times[2] as string) + 30_000).toISOString());
    expect(midway.status).toBe(200);
    expect(midway.body).toEqual({
      ...task,
      priority: 'high',
      due_date: '2026-12-03',
      version: 3,
      updated_at: times[2],
    });

    const completed = await taskAt(alice, task.id, times[7] as string);
    expect(completed.body).toMatchObject({ title: 'Pay the rent', tags: ['work'], status: 'completed', version: 8 });
    expect(completed.body.completed_at).toBe(times[7]);

    expectProblem(await taskAt(alice, task.id, times[9] as string), 404, 'not_found');
    expectProblem(await taskAt(alice, task.id, 'soon'), 422, 'validation_failed');
  });

  it('restores a deleted task: same id, fields, tags and creation time, the next version, a task.restored event', async () => {
    const created = await createTask(alice, {
      title: 'Renew passport',
      priority: 'urgent',
      due_at: '2026-06-01T10:00',
      tags: ['errands', 'Papers'],
    });
    const completed = await ok(alice, 'POST', `/api/v1/tasks/${created.id}/complete`);
    await ok(alice, 'DELETE', `/api/v1/tasks/${created.id}`);
    expect((await call(t.app, 'GET', `/api/v1/tasks/${created.id}`, { token: alice.token })).status).toBe(404);

    const restoredAt = clock.now().toISOString();
    const restored = await call(t.app, 'POST', `/api/v1/tasks/${created.id}/restore`, { token: alice.token });
    expect(restored.status).toBe(200);
    expect(restored.headers.etag).toBe('"4"');
    expect(restored.body).toEqual({ ...completed, version: 4, updated_at: restoredAt });
    const fetched = await call(t.app, 'GET', `/api/v1/tasks/${created.id}`, { token: alice.token });
    expect(fetched.body).toEqual(restored.body);

    const events = await history(alice, created.id);
    const [deleted, restoredEvent] = events.slice(-2);
    expect(restoredEvent).toMatchObject({
      type: 'task.restored',
      aggregate_version: 4,
      causation_id: deleted?.event_id,
      summary: "Restored 'Renew passport'",
    });
    const list = await call(t.app, 'GET', '/api/v1/tasks?status=completed&limit=200', { token: alice.token });
    expect(list.body.items.map((x: { id: string }) => x.id)).toContain(created.id);

    const again = await call(t.app, 'POST', `/api/v1/tasks/${created.id}/restore`, { token: alice.token });
    expectProblem(again, 409, 'conflict');
    expectProblem(await call(t.app, 'POST', `/api/v1/tasks/${randomUUID()}/restore`, { token: alice.token }), 404, 'not_found');
  });

  it('restores into the Inbox when the task’s list is gone', async () => {
    const db = t.app.database.db;
    const listId = randomUUID();
    await db.insertInto('lists').values({ id: listId, owner_id: alice.id, name: 'Temporary' }).execute();
    await db.insertInto('list_members').values({ list_id: listId, user_id: alice.id, role: 'owner' }).execute();
    const task = await createTask(alice, { title: 'Outlives its list', list_id: listId });
    await ok(alice, 'DELETE', `/api/v1/tasks/${task.id}`);
    await db.deleteFrom('lists').where('id', '=', listId).execute();
    const restored = await ok(alice, 'POST', `/api/v1/tasks/${task.id}/restore`);
    expect(restored).toMatchObject({ id: task.id, list_id: alice.inboxListId, version: 3 });
  });

  it('reverts one change: the fields go back, as a new change caused by the reverted event', async () => {
    const task = await createTask(alice, { title: 'Draft', priority: 'low', tags: ['alpha'] });
    await ok(alice, 'PATCH', `/api/v1/tasks/${task.id}`, {
      title: 'Final',
      priority: 'high',
      tags: ['beta'],
      due_date: '2026-05-01',
    });
    const [change] = (await history(alice, task.id)).slice(-1);
    expect(change?.type).toBe('task.updated');

    const reverted = await call(t.app, 'POST', `/api/v1/events/${change?.event_id}/revert`, { token: alice.token });
    expect(reverted.status).toBe(200);
    expect(reverted.headers.etag).toBe('"3"');
    expect(reverted.body).toMatchObject({ title: 'Draft', priority: 'low', tags: ['alpha'], due_date: null, version: 3 });
    const [undo] = (await history(alice, task.id)).slice(-1);
    expect(undo).toMatchObject({
      type: 'task.updated',
      causation_id: change?.event_id,
      data: { before: { title: 'Final', priority: 'high' }, after: { title: 'Draft', priority: 'low' } },
    });
  });

  it('refuses to revert a change whose fields changed since (409, naming them), or an event of another kind', async () => {
    const task = await createTask(alice, { title: 'Contested', priority: 'low' });
    await ok(alice, 'PATCH', `/api/v1/tasks/${task.id}`, { priority: 'medium', description: 'v1' });
    await ok(alice, 'PATCH', `/api/v1/tasks/${task.id}`, { priority: 'urgent' });
    const [created, first] = await history(alice, task.id);

    const conflict = await call(t.app, 'POST', `/api/v1/events/${first?.event_id}/revert`, { token: alice.token });
    expectProblem(conflict, 409, 'revert_conflict');
    expect(problemFields(conflict)).toEqual(['priority']);
    const unchanged = await ok(alice, 'GET', `/api/v1/tasks/${task.id}`);
    expect(unchanged).toMatchObject({ priority: 'urgent', description: 'v1', version: 3 });

    expectProblem(
      await call(t.app, 'POST', `/api/v1/events/${created?.event_id}/revert`, { token: alice.token }),
      422,
      'not_revertible',
    );
    await ok(alice, 'DELETE', `/api/v1/tasks/${task.id}`);
    const [, , latest] = await history(alice, task.id);
    expectProblem(
      await call(t.app, 'POST', `/api/v1/events/${latest?.event_id}/revert`, { token: alice.token }),
      409,
      'revert_conflict',
    );
    expectProblem(await call(t.app, 'POST', `/api/v1/events/${randomUUID()}/revert`, { token: alice.token }), 404, 'not_found');
  });

  it("another user's events never show: not through any filter, task history, time travel, restore or revert", async () => {
    const requestId = `alice-secret-${randomUUID()}`;
    const secret = await createTask(alice, { title: 'Alice: secret', tags: ['private'] }, { 'x-request-id': requestId });
    await ok(alice, 'PATCH', `/api/v1/tasks/${secret.id}`, { priority: 'high' });
    const gone = await createTask(alice, { title: 'Alice: deleted' });
    await ok(alice, 'DELETE', `/api/v1/tasks/${gone.id}`);
    const aliceEvents = await feed(alice, 'limit=200');
    const aliceIds = new Set(aliceEvents.map((e) => e.event_id));
    const anAliceUpdate = aliceEvents.find((e) => e.type === 'task.updated' && e.aggregate_id === secret.id);
    const lastAliceSeq = aliceEvents[0]?.seq as string;
    const foreignCursor = Buffer.from(JSON.stringify({ seq: String(BigInt(lastAliceSeq) + 1n) })).toString('base64url');

    for (const query of [
      'limit=200',
      'type=task.*&limit=200',
      'type=task.created,tag.created,task.updated,task.deleted',
      `task_id=${secret.id}`,
      `task_id=${gone.id}`,
      `correlation_id=${requestId}`,
      `from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&limit=200`,
      `cursor=${foreignCursor}&limit=200`,
    ]) {
      const items = await feed(bob, query);
      expect(
        items.filter((e) => aliceIds.has(e.event_id)),
        query,
      ).toEqual([]);
    }

    const asMissing = async (method: 'GET' | 'POST', url: (id: string) => string, id: string) => {
      const foreign = await call(t.app, method, url(id), { token: bob.token });
      const missing = await call(t.app, method, url(randomUUID()), { token: bob.token });
      expectProblem(foreign, 404, 'not_found');
      expect(problemShape(foreign)).toEqual(problemShape(missing));
    };
    await asMissing('GET', (id) => `/api/v1/tasks/${id}/history`, secret.id);
    await asMissing('GET', (id) => `/api/v1/tasks/${id}/history`, gone.id);
    await asMissing('GET', (id) => `/api/v1/tasks/${id}/history/at?time=2100-01-01T00:00:00Z`, secret.id);
    await asMissing('POST', (id) => `/api/v1/tasks/${id}/restore`, gone.id);
    await asMissing('POST', (id) => `/api/v1/events/${id}/revert`, anAliceUpdate?.event_id as string);
    // And nothing changed on Alice's side.
    expect(await ok(alice, 'GET', `/api/v1/tasks/${secret.id}`)).toMatchObject({ priority: 'high', version: 2 });
    expect((await call(t.app, 'GET', `/api/v1/tasks/${gone.id}`, { token: alice.token })).status).toBe(404);
  });

  it('folding every event of a task equals the task as GET shows it, over random edit sequences', async () => {
    const zone = fc.constantFrom('Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'UTC');
    const moment = fc.date({ min: new Date('2026-01-01T00:00:00Z'), max: new Date('2027-12-31T23:59:00Z'), noInvalidDate: true });
    const due = fc.oneof(
      fc.constant({ due_date: null }),
      fc.constant({ due_at: null }),
      moment.map((d) => ({ due_date: d.toISOString().slice(0, 10) })),
      fc.record({ due_at: moment.map((d) => d.toISOString().slice(0, 16)), time_zone: fc.option(zone, { nil: undefined }) }),
      moment.map((d) => ({ due_at: d.toISOString() })),
      fc.record({ time_zone: zone }),
    );
    const patch = fc
      .record(
        {
          title: fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim().length > 0),
          description: fc.string({ maxLength: 30 }),
          priority: fc.constantFrom('none', 'low', 'medium', 'high', 'urgent'),
          tags: fc.uniqueArray(fc.constantFrom('work', 'home', 'Home', 'errands', 'a-b', 'ab', '2do'), { maxLength: 3 }),
          due,
        },
        { requiredKeys: [] },
      )
      .map(({ due: d, ...rest }) => JSON.parse(JSON.stringify({ ...rest, ...d })) as Record<string, unknown>)
      .filter((body) => Object.keys(body).length > 0);
    const command = fc.oneof(
      { arbitrary: patch.map((body) => ({ kind: 'patch' as const, body })), weight: 4 },
      { arbitrary: fc.constant({ kind: 'complete' as const }), weight: 1 },
      { arbitrary: fc.constant({ kind: 'reopen' as const }), weight: 1 },
      { arbitrary: fc.constant({ kind: 'delete-and-restore' as const }), weight: 1 },
    );
    const foldable = (e: Entry) => ({
      type: e.type,
      aggregateId: e.aggregate_id,
      aggregateVersion: e.aggregate_version,
      occurredAt: new Date(e.occurred_at),
      data: e.data,
    });

    await fc.assert(
      fc.asyncProperty(patch, fc.array(command, { maxLength: 8 }), async (initial, commands) => {
        const { due_at: _a, due_date: _d, time_zone: _z, ...body } = initial;
        const task = await createTask(alice, { title: 'Property', ...body });
        // What the API answered at each version: every prefix of the history must fold to it.
        const answered = new Map<number, unknown>([[task.version, task]]);
        for (const c of commands) {
          let view: { version: number };
          if (c.kind === 'patch') view = await ok(alice, 'PATCH', `/api/v1/tasks/${task.id}`, c.body);
          else if (c.kind === 'delete-and-restore') {
            await ok(alice, 'DELETE', `/api/v1/tasks/${task.id}`);
            view = await ok(alice, 'POST', `/api/v1/tasks/${task.id}/restore`);
          } else view = await ok(alice, 'POST', `/api/v1/tasks/${task.id}/${c.kind}`);
          answered.set(view.version, view);
        }
        const current = await ok(alice, 'GET', `/api/v1/tasks/${task.id}`);
        const events = (await history(alice, task.id)).map(foldable);
        expect(foldTaskEvents(events)).toEqual(current);
        for (let k = 1; k <= events.length; k++) {
          const version = events[k - 1]?.aggregateVersion as number;
          const folded = foldTaskEvents(events.slice(0, k));
          if (answered.has(version)) expect(folded).toEqual(answered.get(version));
          else expect(folded).toBeNull(); // the deletion in a delete-and-restore
        }
        const atNow = await taskAt(alice, task.id, clock.now().toISOString());
        expect(atNow.body).toEqual(current);
      }),
      { numRuns: 25 },
    );
  });
});
