// Nothing lives only in memory: after a restart on the same database every user, task,
// tag and version is still there, and tokens issued before the restart still verify
// (the generated JWT secret is kept in app_settings, not in the process).
import { afterAll, expect, it } from 'vitest';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp } from './support/app.js';
import type { DatabaseCopy } from './support/databases.js';

describeWithDatabase('restart on the same database', () => {
  const running: TestApp[] = [];
  let database: DatabaseCopy | undefined;
  afterAll(async () => {
    for (const t of running) await t.close();
    await database?.drop();
  });

  it('a restarted app serves the same users, tasks and versions, and accepts tokens issued before it', async () => {
    const first = await startTestApp();
    running.push(first);
    database = first.database;
    const user = await signUp(first.app);
    const create = (body: Record<string, unknown>) => call(first.app, 'POST', '/api/v1/tasks', { token: user.token, body });
    const a = await create({ title: 'Pay rent', priority: 'high', tags: ['Finance', 'home'], due_date: '2026-12-01' });
    const b = await create({ title: 'Call mum', tags: ['family'] });
    const c = await create({ title: 'Read a book' });
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    await call(first.app, 'PATCH', `/api/v1/tasks/${c.body.id}`, { token: user.token, body: { description: 'chapter 4' } });
    const completed = await call(first.app, 'POST', `/api/v1/tasks/${b.body.id}/complete`, { token: user.token });
    expect(completed.body).toMatchObject({ status: 'completed', version: 2 });
    const before = await call(first.app, 'GET', '/api/v1/tasks?status=all', { token: user.token });
    expect(before.body.items).toHaveLength(3);
    await first.close({ keepDatabase: true });

    const second = await startTestApp({ database: first.database });
    running.push(second);
    const oldToken = await call(second.app, 'GET', '/api/v1/tasks?status=all', { token: user.token });
    expect(oldToken.status).toBe(200);
    expect(oldToken.body).toEqual(before.body);
    expect(oldToken.body.items.map((x: { version: number }) => x.version).sort()).toEqual([1, 2, 2]);

    const login = await call(second.app, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    expect(login.body.user).toMatchObject({ id: user.id, inbox_list_id: user.inboxListId });
    const fresh = await call(second.app, 'GET', '/api/v1/tasks?status=all', { token: login.body.access_token });
    expect(fresh.body).toEqual(before.body);
    const open = await call(second.app, 'GET', '/api/v1/tasks', { token: login.body.access_token });
    expect(open.body.items.map((x: { title: string }) => x.title).sort()).toEqual(['Pay rent', 'Read a book']);

    const refreshed = await call(second.app, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(refreshed.status).toBe(200);

    // Versions continue from the persisted ones, and existing tags are reused.
    const reopened = await call(second.app, 'POST', `/api/v1/tasks/${b.body.id}/reopen`, { token: login.body.access_token });
    expect(reopened.body).toMatchObject({ status: 'open', version: 3 });
    const again = await call(second.app, 'POST', '/api/v1/tasks', {
      token: user.token,
      body: { title: 'Budget', tags: ['FINANCE'] },
    });
    expect(again.body.tags).toEqual(['Finance']);
  });
});
