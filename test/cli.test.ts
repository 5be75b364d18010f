// The real CLI as operators run it: `taskflow migrate`, `seed` and `serve` in a child
// process on a copy of the test database, over real HTTP, down to graceful shutdown on
// SIGTERM (in-flight requests finish, exit code 0).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { DEMO_PASSWORD } from '../src/seed/seed.js';
import { call, describeWithDatabase, startTestApp } from './support/app.js';
import { type CliProcess, cliEnv, exitOf, type LogLine, spawnCli } from './support/cli.js';
import { copyTemplate, type DatabaseCopy } from './support/databases.js';
import { until } from './support/until.js';

// Starting a child costs tsx's loader plus (on PGlite) booting the WASM database, which
// takes seconds on a busy 2-core machine running the other test files at the same time.
const START_MS = 30_000;
const slow = { timeout: 60_000 };

describeWithDatabase('taskflow CLI', () => {
  let database: DatabaseCopy;
  const children = new Set<CliProcess>();
  beforeAll(async () => {
    database = await copyTemplate(inject('databaseTemplate'));
  });
  afterAll(async () => {
    for (const cli of children) await cli.stop();
    await database?.drop();
  });

  const taskflow = (args: string[], extraEnv: Record<string, string> = {}) => {
    const cli = spawnCli(args, cliEnv(database, extraEnv));
    children.add(cli);
    return cli;
  };

  it('`migrate` on an up-to-date database exits 0 and applies nothing', slow, async () => {
    const cli = taskflow(['migrate']);
    const { code } = await exitOf(cli, START_MS, 'taskflow migrate');
    expect(code, cli.stderr()).toBe(0);
    expect(cli.logs.find((l) => l.msg === 'migrations applied')).toMatchObject({ applied: [] });
  });

  it('`seed --user demo --tasks 20` creates a demo user who can log in and see the tasks', slow, async () => {
    const cli = taskflow(['seed', '--user', 'demo', '--tasks', '20']);
    const { code } = await exitOf(cli, 45_000, 'taskflow seed');
    expect(code, cli.stderr()).toBe(0);
    expect(cli.logs.find((l) => l.msg === 'seeded')).toMatchObject({ email: 'demo@example.com', tasks: 20 });

    // Only after the CLI has exited: a PGlite data directory has one owner at a time.
    const t = await startTestApp({ database });
    try {
      const login = await call(t.app, 'POST', '/api/v1/auth/login', {
        body: { email: 'demo@example.com', password: DEMO_PASSWORD },
      });
      expect(login.status).toBe(200);
      const token = login.body.access_token;
      const all = await call(t.app, 'GET', '/api/v1/tasks?status=all&limit=200', { token });
      expect(all.status).toBe(200);
      expect(all.body.items.length).toBeGreaterThanOrEqual(20);
      const open = await call(t.app, 'GET', '/api/v1/tasks?limit=200', { token });
      const completed = await call(t.app, 'GET', '/api/v1/tasks?status=completed&limit=200', { token });
      expect(open.body.items.length + completed.body.items.length).toBe(all.body.items.length);
      expect(all.body.items.some((task: { tags: string[] }) => task.tags.length > 0)).toBe(true);
    } finally {
      await t.close();
    }
  });

  it('`serve` logs its address, answers over HTTP, and on SIGTERM finishes the request in flight and exits 0', slow, async () => {
    const cli = taskflow(['serve'], { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info' });
    const listening = await cli.waitForLog((l) => typeof l.address === 'string', START_MS, 'the listening log line');
    const address = String(listening.address);
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(listening.msg).toContain(address);

    // Readiness may lag listening by a moment (consumers start after the socket): poll it as a probe would.
    const ready = await until(
      async () => {
        const res = await fetch(`${address}/health/ready`);
        const body = await res.json();
        return res.status === 200 ? body : null;
      },
      { timeoutMs: 10_000, what: '/health/ready to answer 200' },
    );
    expect(ready).toMatchObject({ status: 'ok' });

    // Sign-up hashes a password (tens of ms): SIGTERM arrives while it is being handled.
    const requestId = `inflight-${randomUUID()}`;
    const signUp = fetch(`${address}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ email: `inflight-${randomUUID()}@example.com`, password: 'correct horse battery' }),
    });
    const ofRequest = (l: LogLine) => l.reqId === requestId;
    await cli.waitForLog((l) => ofRequest(l) && l.msg === 'incoming request', 5_000, 'the sign-up to arrive');
    const signalledAt = Date.now();
    cli.child.kill('SIGTERM');

    const response = await signUp;
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
    // The client keeps its connection alive, as browsers and proxies do; shutdown must not wait for it.
    const { code, signal } = await exitOf(cli, 15_000, 'taskflow serve after SIGTERM');
    const lastLines = JSON.stringify(cli.logs.slice(-3).map((l) => l.msg));
    expect({ code, signal }, lastLines).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(10_000);

    // The request really was in flight: shutdown began before it completed.
    const shuttingDown = cli.logs.findIndex((l) => l.msg === 'shutting down');
    const completed = cli.logs.findIndex((l) => ofRequest(l) && l.msg === 'request completed');
    expect(shuttingDown).toBeGreaterThanOrEqual(0);
    expect(completed).toBeGreaterThan(shuttingDown);
  });
});
