import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';

describeWithDatabase('tasks: create, read, update, complete, reopen, delete', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await startTestApp();
    user = await signUp(t.app, { time_zone: 'Europe/Berlin' });
  });
  afterAll(() => t.close());

  it('round-trips every field of a created task', async () => {
    const created = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: {
        title: '  Pay rent  ',
        description: '## Notes\n- transfer **900 EUR**',
        due_at: '2026-12-01T09:00',
        priority: 'high',
        tags: ['Finance', '#finance', 'home'],
      },
    });
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBe('"1"');
    expect(created.headers.location).toBe(`/api/v1/tasks/${created.body.id}`);
    expect(created.body).toMatchObject({
      title: 'Pay rent',
      description: '## Notes\n- transfer **900 EUR**',
      // 09:00 in Berlin in winter is 08:00 UTC; the zone defaults to the user's.
      due_at: '2026-12-01T08:00:00.000Z',
      due_date: null,
      time_zone: 'Europe/Berlin',
      priority: 'high',
      tags: ['Finance', 'home'],
      status: 'open',
      completed_at: null,
      list_id: user.inboxListId,
      version: 1,
    });
    const fetched = await call(t.app, 'GET', `/api/v1/tasks/${created.body.id}`, { token: user.token });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(created.body);
  });

  it('accepts an all-day due date and an instant with an explicit offset and zone', async () => {
    const allDay = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'Birthday', due_date: '2026-12-24' },
    });
    expect(allDay.body).toMatchObject({ due_date: '2026-12-24', due_at: null, time_zone: null });
    const instant = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'Call NY', due_at: '2026-07-01T15:00:00-04:00', time_zone: 'America/New_York' },
    });
    expect(instant.body).toMatchObject({ due_at: '2026-07-01T19:00:00.000Z', time_zone: 'America/New_York' });
  });

  it('PATCH changes only the given fields and bumps the version', async () => {
    const { body: task } = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'Draft', priority: 'low', tags: ['work'], due_date: '2026-12-10' },
    });
    const patched = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, {
      token: user.token,
      body: { title: 'Final', tags: ['work', 'urgent-stuff'], due_date: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.etag).toBe('"2"');
    expect(patched.body).toMatchObject({
      title: 'Final',
      priority: 'low',
      tags: ['urgent-stuff', 'work'],
      due_date: null,
      version: 2,
    });
  });

  it('a PATCH that changes nothing keeps the version', async () => {
    const { body: task } = await call(t.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'Same', priority: 'low' },
    });
    const patched = await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, {
      token: user.token,
      body: { title: 'Same', priority: 'low' },
    });
    expect(patched.body.version).toBe(1);
  });

  it('completes and reopens, idempotently', async () => {
    const { body: task } = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title: 'Finish me' } });
    const done = await call(t.app, 'POST', `/api/v1/tasks/${task.id}/complete`, { token: user.token });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('completed');
    expect(Date.parse(done.body.completed_at)).not.toBeNaN();
    const again = await call(t.app, 'POST', `/api/v1/tasks/${task.id}/complete`, { token: user.token });
    expect(again.body.version).toBe(done.body.version);
    const reopened = await call(t.app, 'POST', `/api/v1/tasks/${task.id}/reopen`, { token: user.token });
    expect(reopened.body).toMatchObject({ status: 'open', completed_at: null, version: done.body.version + 1 });
  });

  it('deletes a task; afterwards it is 404', async () => {
    const { body: task } = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title: 'Delete me' } });
    const deleted = await call(t.app, 'DELETE', `/api/v1/tasks/${task.id}`, { token: user.token });
    expect(deleted.status).toBe(204);
    const gone = await call(t.app, 'GET', `/api/v1/tasks/${task.id}`, { token: user.token });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('not_found');
    expect(gone.headers['content-type']).toContain('application/problem+json');
  });

  it('If-Match with a stale version answers 412 and changes nothing', async () => {
    const { body: task } = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title: 'v1' } });
    await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, {
      token: user.token,
      body: { title: 'v2' },
      headers: { 'if-match': '"1"' },
    });
    for (const [method, url, body] of [
      ['PATCH', `/api/v1/tasks/${task.id}`, { title: 'v3' }],
      ['POST', `/api/v1/tasks/${task.id}/complete`, undefined],
      ['DELETE', `/api/v1/tasks/${task.id}`, undefined],
    ] as const) {
      const stale = await call(t.app, method, url, { token: user.token, body, headers: { 'if-match': '"1"' } });
      expect(stale.status).toBe(412);
      expect(stale.body).toMatchObject({ code: 'version_conflict', current_version: 2 });
    }
    const current = await call(t.app, 'GET', `/api/v1/tasks/${task.id}`, { token: user.token });
    expect(current.body).toMatchObject({ title: 'v2', status: 'open', version: 2 });
  });

  it('the same Idempotency-Key and body returns the first task, never a duplicate', async () => {
    const body = { title: 'Only once', tags: ['idem'] };
    const headers = { 'idempotency-key': 'create-only-once-1' };
    const results = await Promise.all(
      [1, 2, 3].map(() => call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body, headers })),
    );
    const ids = new Set(results.map((r) => r.body.id));
    expect(results.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
    const list = await call(t.app, 'GET', '/api/v1/tasks?limit=200', { token: user.token });
    expect(list.body.items.filter((x: { title: string }) => x.title === 'Only once')).toHaveLength(1);
    const misuse = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title: 'Other' }, headers });
    expect(misuse.status).toBe(422);
    expect(misuse.body.code).toBe('idempotency_key_reused');
  });
});
