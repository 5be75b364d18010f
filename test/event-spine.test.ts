// DESIGN §1: every mutation writes its state and its events in ONE transaction. These
// tests read the event log straight from the database (the outbox consumers will read)
// and inject faults with a trigger to prove that a failed append leaves no state behind.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';

describeWithDatabase('event spine: state and events in one transaction', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await startTestApp();
    user = await signUp(t.app);
  });
  afterAll(async () => {
    await t.close();
    await t.database.drop();
  });

  const eventsOf = (aggregateId: string) =>
    t.app.database.db.selectFrom('events').selectAll().where('aggregate_id', '=', aggregateId).orderBy('seq').execute();

  const eventsOfRequest = (requestId: string) =>
    t.app.database.db.selectFrom('events').selectAll().where('correlation_id', '=', requestId).orderBy('seq').execute();

  const requestId = (label: string) => `${label}-${randomUUID()}`;

  /** A task as the API shows it, reduced to the snapshot events carry (no id, timestamps, version). */
  const snapshotOf = (task: Record<string, unknown>) => {
    const { id: _id, created_at: _created, updated_at: _updated, version: _version, ...state } = task;
    return state;
  };

  const createTask = async (body: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body, headers });
    expect(res.status).toBe(201);
    return res.body;
  };

  it('sign-up writes user.registered and list.created for the Inbox', async () => {
    const [registered] = await eventsOf(user.id);
    const [inbox] = await eventsOf(user.inboxListId);
    expect((await eventsOf(user.id)).map((e) => e.type)).toEqual(['user.registered']);
    expect(registered).toMatchObject({ aggregate_type: 'user', aggregate_version: 1, user_id: user.id, actor_id: user.id });
    expect((await eventsOf(user.inboxListId)).map((e) => e.type)).toEqual(['list.created']);
    expect(inbox).toMatchObject({
      aggregate_type: 'list',
      aggregate_version: 1,
      user_id: user.id,
      data: { name: 'Inbox', is_inbox: true },
    });
    // Both belong to the sign-up's transaction.
    expect(inbox?.tx_id).toBe(registered?.tx_id);
  });

  it('creating a task appends one task.created with the snapshot, plus tag.created only for new tags', async () => {
    await createTask({ title: 'Seed an existing tag', tags: ['home'] });
    const id = requestId('create');
    const task = await createTask(
      { title: 'Water the plants', description: 'balcony first', priority: 'high', tags: ['HOME', 'Garden'] },
      { 'x-request-id': id },
    );
    expect(task.tags).toEqual(['Garden', 'home']);

    const events = await eventsOfRequest(id);
    // 'HOME' matches the existing 'home' case-insensitively: only 'Garden' is new.
    expect(events.map((e) => e.type)).toEqual(['tag.created', 'task.created']);
    const [tagCreated, taskCreated] = events;
    expect(tagCreated).toMatchObject({ aggregate_type: 'tag', aggregate_version: 1, user_id: user.id, data: { name: 'Garden' } });
    expect(taskCreated).toMatchObject({
      aggregate_type: 'task',
      aggregate_id: task.id,
      aggregate_version: 1,
      user_id: user.id,
      actor_id: user.id,
      correlation_id: id,
      schema_version: 1,
    });
    expect(taskCreated?.data).toEqual(snapshotOf(task));
    expect(taskCreated?.tx_id).toEqual(expect.any(String));
    expect(tagCreated?.tx_id).toBe(taskCreated?.tx_id);
    expect(await eventsOf(task.id)).toHaveLength(1);
  });

  it('a task with only existing tags appends no tag.created', async () => {
    await createTask({ title: 'Make the tag exist', tags: ['Errands'] });
    const id = requestId('existing-tags');
    await createTask({ title: 'Buy milk', tags: ['errands', '#ERRANDS'] }, { 'x-request-id': id });
    expect((await eventsOfRequest(id)).map((e) => e.type)).toEqual(['task.created']);
  });

  it('PATCH appends one task.updated holding before and after of the changed fields only', async () => {
    const task = await createTask({ title: 'Draft', description: 'keep me', priority: 'low' });
    const id = requestId('patch');
    const patched = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, {
      token: user.token,
      body: { title: 'Final', description: 'keep me', priority: 'urgent' },
      headers: { 'x-request-id': id },
    });
    expect(patched.status).toBe(200);
    const events = await eventsOfRequest(id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'task.updated', aggregate_id: task.id, aggregate_version: 2, actor_id: user.id });
    expect(events[0]?.data).toEqual({
      before: { title: 'Draft', priority: 'low' },
      after: { title: 'Final', priority: 'urgent' },
    });
  });

  it('a PATCH that changes nothing appends no event', async () => {
    const task = await createTask({ title: 'Stable', priority: 'medium', tags: ['same'] });
    const patched = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, {
      token: user.token,
      body: { title: 'Stable', priority: 'medium', tags: ['SAME'] },
    });
    expect(patched.status).toBe(200);
    expect((await eventsOf(task.id)).map((e) => e.type)).toEqual(['task.created']);
  });

  it('complete, complete again, reopen and delete append one event each with gap-free versions', async () => {
    const task = await createTask({ title: 'Full life', tags: ['lifecycle'] });
    await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: user.token, body: { priority: 'high' } });
    const done = await call(t.app, 'POST', `/api/v1/tasks/${task.id}/complete`, { token: user.token });
    expect(done.status).toBe(200);
    const doneAgain = await call(t.app, 'POST', `/api/v1/tasks/${task.id}/complete`, { token: user.token });
    expect(doneAgain.status).toBe(200);
    const reopened = await call(t.app, 'POST', `/api/v1/tasks/${task.id}/reopen`, { token: user.token });
    expect(reopened.status).toBe(200);
    const lastState = await call(t.app, 'GET', `/api/v1/tasks/${task.id}`, { token: user.token });
    const deleted = await call(t.app, 'DELETE', `/api/v1/tasks/${task.id}`, { token: user.token });
    expect(deleted.status).toBe(204);

    const events = await eventsOf(task.id);
    expect(events.map((e) => e.type)).toEqual([
      'task.created',
      'task.updated',
      'task.completed',
      'task.reopened',
      'task.deleted',
    ]);
    expect(events.map((e) => e.aggregate_version)).toEqual([1, 2, 3, 4, 5]);
    const [, , completed, reopenedEvent, deletedEvent] = events;
    expect(completed?.data).toEqual({ completed_at: done.body.completed_at });
    expect(reopenedEvent?.data).toEqual({ previous_completed_at: done.body.completed_at });
    expect(deletedEvent?.data).toEqual(snapshotOf(lastState.body));
    expect(deletedEvent?.data).toMatchObject({ title: 'Full life', priority: 'high', tags: ['lifecycle'], status: 'open' });
    for (const e of events) {
      expect(e).toMatchObject({ user_id: user.id, actor_id: user.id, aggregate_type: 'task' });
      expect(e.tx_id).not.toBeNull();
    }
    // One transaction per mutation.
    expect(new Set(events.map((e) => e.tx_id)).size).toBe(events.length);
  });

  it('events are immutable: an UPDATE on the event log is rejected', async () => {
    await expect(sql`UPDATE events SET type = 'x'`.execute(t.app.database.db)).rejects.toThrow(/immutable/);
    const types = await t.app.database.db.selectFrom('events').select('type').where('type', '=', 'x').execute();
    expect(types).toEqual([]);
  });

  it('when appending the event fails, the task, its new tag and its events are all rolled back', async () => {
    const db = t.app.database.db;
    await sql`CREATE FUNCTION test_fault_on_create() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected fault in events for %', NEW.aggregate_id; END; $$`.execute(db);
    await sql`CREATE TRIGGER test_fault_on_create BEFORE INSERT ON events FOR EACH ROW
      WHEN (NEW.data->>'title' = 'explode') EXECUTE FUNCTION test_fault_on_create()`.execute(db);
    const tagName = `brand-new-${randomUUID().slice(0, 8)}`;
    const id = requestId('explode');

    const failed = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'explode', tags: [tagName] },
      headers: { 'x-request-id': id },
    });
    expect(failed.status).toBe(500);
    expect(failed.headers['content-type']).toContain('application/problem+json');
    expect(failed.body).toEqual({
      type: '/problems/internal_error',
      title: 'Internal server error',
      status: 500,
      code: 'internal_error',
      detail: 'Something went wrong on our side',
      instance: '/api/v1/tasks',
      request_id: id,
    });
    expect(JSON.stringify(failed.body)).not.toMatch(/injected|trigger|events|stack/i);

    expect(await db.selectFrom('tasks').select('id').where('title', '=', 'explode').execute()).toEqual([]);
    expect(await db.selectFrom('tags').select('id').where('name', '=', tagName).execute()).toEqual([]);
    expect(await eventsOfRequest(id)).toEqual([]);
    const tagEvents = await db.selectFrom('events').select('seq').where(sql<string>`data->>'name'`, '=', tagName).execute();
    expect(tagEvents).toEqual([]);

    // The failed transaction did not poison the connection (PGlite has only one).
    const next = await createTask({ title: 'After the explosion', tags: [tagName] });
    expect(next.tags).toEqual([tagName]);
    expect((await eventsOf(next.id)).map((e) => e.type)).toEqual(['task.created']);
  });

  it('when appending the update event fails, the task keeps its old title and version', async () => {
    const db = t.app.database.db;
    await sql`CREATE FUNCTION test_fault_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'injected fault in events for %', NEW.aggregate_id; END; $$`.execute(db);
    await sql`CREATE TRIGGER test_fault_on_update BEFORE INSERT ON events FOR EACH ROW
      WHEN (NEW.data->'after'->>'title' = 'explode on update') EXECUTE FUNCTION test_fault_on_update()`.execute(db);
    const task = await createTask({ title: 'Before', tags: ['kept'] });

    const failed = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, {
      token: user.token,
      body: { title: 'explode on update', tags: ['kept', 'new-on-failed-patch'] },
    });
    expect(failed.status).toBe(500);
    expect(failed.body.code).toBe('internal_error');

    const current = await call(t.app, 'GET', `/api/v1/tasks/${task.id}`, { token: user.token });
    expect(current.body).toMatchObject({ title: 'Before', tags: ['kept'], version: 1 });
    expect((await eventsOf(task.id)).map((e) => e.type)).toEqual(['task.created']);
    expect(await db.selectFrom('tags').select('id').where('name', '=', 'new-on-failed-patch').execute()).toEqual([]);

    const fine = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: user.token, body: { title: 'After' } });
    expect(fine.body).toMatchObject({ title: 'After', version: 2 });
  });
});
