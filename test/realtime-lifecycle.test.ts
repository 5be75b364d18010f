// Real-time streams across the lifecycle of credentials, retention, instances and the
// process: a token expiring mid-stream, a cursor older than retention, a change made
// through one server process reaching a WebSocket on another (PostgreSQL: one database,
// two processes, no broker), and graceful shutdown closing every stream with 1001.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRealtimeClient, type RealtimeStatus } from '../src/client/realtime-client.js';
import { archiveEvents } from '../src/events/retention.js';
import type { ServerFrame } from '../src/realtime/schema.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { type CliProcess, cliEnv, spawnCli } from './support/cli.js';
import { testDatabaseKind } from './support/databases.js';
import { accessClaims, jwtSignedWith } from './support/jwt.js';
import { metricSample } from './support/metrics.js';
import { openSocket, openSse, subscribedSocket } from './support/realtime.js';
import { until, withDeadline } from './support/until.js';

const JWT_SECRET = 'realtime-lifecycle-secret-0123456789-abcdef';

describeWithDatabase('real-time streams across tokens, retention, instances and shutdown', () => {
  let t: TestApp;
  let address: string;
  const children: CliProcess[] = [];

  beforeAll(async () => {
    t = await startTestApp({
      workers: false,
      env: { PORT: '0', HOST: '127.0.0.1', JWT_SECRET, REALTIME_HEARTBEAT_INTERVAL_MS: '1000', REALTIME_REPLAY_LIMIT: '5' },
    });
    address = await t.app.listen();
  });
  afterAll(async () => {
    for (const child of children) await child.stop();
    await t.close();
  });

  const createTask = async (user: TestUser, title: string, app = t.app) => {
    const res = await call(app, 'POST', '/api/v1/tasks', { token: user.token, body: { title } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  };

  it('heartbeats keep streams alive, and a WebSocket that stops answering pings is dropped', async () => {
    const user = await signUp(t.app);
    const sse = await openSse(address, { token: user.token });
    const healthy = await subscribedSocket(address, user.token, { topics: ['tasks'] });
    const dead = await openSocket(address, user.token, 'query', { autoPong: false });
    dead.send({ action: 'subscribe', topics: ['tasks'] });
    await dead.frame((f) => f.type === 'ready', 'ready');
    expect((await withDeadline(dead.closed, 10_000, 'the dead connection dropped')).code).toBe(1006);
    const exposition = (await call(t.app, 'GET', '/metrics')).body as string;
    expect(metricSample(exposition, 'taskflow_realtime_disconnects_total', { transport: 'ws', reason: 'dead' })).toBe(1);
    expect(sse.comments).toBeGreaterThan(0);
    // The one that answers its pings is still there and live.
    await createTask(user, 'still here');
    await healthy.frame((f) => f.type === 'event' && f.event.data.title === 'still here', 'a live event');
    healthy.close();
    sse.close();
  });

  it('a stream ends with token_expired when its access token expires', async () => {
    const user = await signUp(t.app);
    const shortLived = await jwtSignedWith(JWT_SECRET, { ...accessClaims(user.id), exp: Math.floor(Date.now() / 1000) + 2 });
    const socket = await subscribedSocket(address, shortLived, { topics: ['tasks'] });
    const sse = await openSse(address, { token: shortLived });
    expect(sse.status).toBe(200);
    expect(await withDeadline(socket.closed, 5000, 'the WebSocket to close')).toEqual({ code: 4401, reason: 'token_expired' });
    await withDeadline(sse.ended, 5000, 'the SSE stream to end');
    expect(sse.frames.at(-1)?.data).toMatchObject({ type: 'error', code: 'token_expired' });
  });

  it('revoking an API token ends the streams opened with it (4401 token_revoked), and only those', async () => {
    const user = await signUp(t.app);
    const created = await call(t.app, 'POST', '/api/v1/api-tokens', { token: user.token, body: { name: 'Phone widget' } });
    expect(created.status).toBe(201);
    const apiToken = created.body.token as string;
    const viaToken = await subscribedSocket(address, apiToken, { topics: ['tasks'] });
    const sse = await openSse(address, { token: apiToken });
    expect(sse.status).toBe(200);
    const viaSession = await subscribedSocket(address, user.token, { topics: ['tasks', 'activity'] });

    const revoked = await call(t.app, 'DELETE', `/api/v1/api-tokens/${created.body.id}`, { token: user.token });
    expect(revoked.status).toBe(204);
    expect(await withDeadline(viaToken.closed, 5000, 'the WebSocket to close')).toEqual({ code: 4401, reason: 'token_revoked' });
    await withDeadline(sse.ended, 5000, 'the SSE stream to end');
    expect(sse.frames.at(-1)?.data).toMatchObject({ type: 'error', code: 'token_revoked' });
    // The token is refused from now on; the session's own stream is untouched and live.
    expect((await call(t.app, 'GET', '/api/v1/me', { token: apiToken })).status).toBe(401);
    await viaSession.frame((f) => f.type === 'event' && f.event.type === 'api_token.revoked', 'the revocation in the feed');
    await createTask(user, 'after revoking');
    await viaSession.frame((f) => f.type === 'event' && f.event.data.title === 'after revoking', 'a live event');
    viaSession.close();

    const feed = await call(t.app, 'GET', '/api/v1/activity?type=api_token.*', { token: user.token });
    expect(feed.body.items.map((e: { summary: string }) => e.summary)).toEqual([
      "Revoked API token 'Phone widget'",
      "Created API token 'Phone widget'",
    ]);
    expect(JSON.stringify(feed.body)).not.toContain(apiToken);
  });

  it('a cursor older than retention answers reset, then the stream goes live', async () => {
    const user = await signUp(t.app);
    const first = await subscribedSocket(address, user.token, { topics: ['tasks'] });
    const old = await first.frame<Extract<ServerFrame, { type: 'ready' }>>((f) => f.type === 'ready', 'ready');
    first.close();
    // The client missed this event, and retention has moved it (and all before it) to the archive.
    await createTask(user, 'missed, then archived');
    // Retention moved everything up to now to events_archive (no consumer holds it back here).
    expect(await archiveEvents(t.app.database.db, new Date(Date.now() + 60_000))).toBeGreaterThan(0);
    const resumed = await openSocket(address, user.token);
    resumed.send({ action: 'subscribe', topics: ['tasks'], after: old.cursor });
    await resumed.frame((f) => f.type === 'ready', 'ready');
    expect(resumed.frames.map((f) => f.type)).toEqual(['reset', 'ready']);
    expect(resumed.frames[0]).toEqual({ type: 'reset', reason: 'cursor_expired' });
    await createTask(user, 'after the archive');
    await resumed.frame((f) => f.type === 'event' && f.event.data.title === 'after the archive', 'the live event');
    resumed.close();
  });

  it('a client further behind than REALTIME_REPLAY_LIMIT gets a reset instead of an endless replay', async () => {
    const user = await signUp(t.app);
    const first = await subscribedSocket(address, user.token, { topics: ['tasks'] });
    const old = await first.frame<Extract<ServerFrame, { type: 'ready' }>>((f) => f.type === 'ready', 'ready');
    for (let i = 0; i < 7; i++) await createTask(user, `missed ${i}`);
    // Resume only once the server has tailed all 7: until then the xmin gate (any writing
    // transaction in the cluster) may hold some back, and the replay would rightly be short.
    await first.frame((f) => f.type === 'event' && f.event.data.title === 'missed 6', 'the last missed event, live');
    first.close();
    const resumed = await subscribedSocket(address, user.token, { topics: ['tasks'], after: old.cursor });
    expect(resumed.frames.filter((f) => f.type === 'reset')).toEqual([{ type: 'reset', reason: 'too_far_behind' }]);
    await createTask(user, 'live after the reset');
    await resumed.frame((f) => f.type === 'event' && f.event.data.title === 'live after the reset', 'the live event');
    resumed.close();
  });

  it.runIf(testDatabaseKind() === 'postgres')(
    'a change made through one server process reaches a WebSocket on another, through the database alone',
    { timeout: 60_000 },
    async () => {
      // Instance B: `taskflow serve` in its own process, on the same database. Its safety-net
      // poll is a minute: delivery within seconds means LISTEN/NOTIFY woke it.
      const child = spawnCli(
        ['serve'],
        cliEnv(t.database, {
          PORT: '0',
          HOST: '127.0.0.1',
          JWT_SECRET,
          RUN_WORKERS: 'false',
          REALTIME_POLL_INTERVAL_MS: '60000',
          LOG_LEVEL: 'debug',
        }),
      );
      children.push(child);
      const listening = await child.waitForLog((l) => typeof l.address === 'string', 30_000, 'instance B listening');
      const addressB = String(listening.address);
      const user = await signUp(t.app);
      const onB = await subscribedSocket(addressB, user.token, { topics: ['tasks'] });
      const onA = await subscribedSocket(address, user.token, { topics: ['tasks'] });
      await createTask(user, 'written through A');
      await onB.frame((f) => f.type === 'event' && f.event.data.title === 'written through A', 'the event on B');
      const viaB = await fetch(`${addressB}/api/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'written through B' }),
      });
      expect(viaB.status).toBe(201);
      await onA.frame((f) => f.type === 'event' && f.event.data.title === 'written through B', 'the event on A');
      onA.close();
      onB.close();
      // Tokens in the query string or the subprotocol header never reach B's logs.
      const viaQuery = await openSocket(addressB, user.token, 'query');
      const viaProtocol = await openSocket(addressB, user.token, 'protocol');
      const sse = await openSse(addressB, { query: `?access_token=${user.token}` });
      for (const socket of [viaQuery, viaProtocol]) {
        socket.send({ action: 'subscribe', topics: ['tasks'] });
        await socket.frame((f) => f.type === 'ready', 'ready');
        socket.close();
      }
      await sse.frame((f) => f.data.type === 'ready', 'ready over SSE');
      sse.close();
      await child.waitForLog((l) => l.msg === 'websocket authenticated', 5000, 'a debug line of the sockets');
      const output = JSON.stringify(child.logs) + child.stderr();
      expect(output).toContain('/api/v1/ws');
      expect(output).not.toContain(user.token);
      expect(output).not.toContain(user.token.split('.')[2]);
    },
  );

  // Last: it closes the app.
  it('closing the app ends every real-time connection with 1001, and the client goes offline to retry', async () => {
    const user = await signUp(t.app);
    const socket = await subscribedSocket(address, user.token, { topics: ['tasks'] });
    const sse = await openSse(address, { token: user.token });
    await sse.frame((f) => f.data.type === 'ready', 'ready');
    const statuses: RealtimeStatus[] = [];
    const client = createRealtimeClient({ url: address, token: user.token, topics: ['tasks'], initialDelayMs: 60_000 });
    client.on('status', (s) => statuses.push(s));
    await until(() => client.status === 'online', { what: 'client online' });
    try {
      await t.app.close();
      expect(await socket.closed).toEqual({ code: 1001, reason: 'shutting_down' });
      await withDeadline(sse.ended, 2000, 'the SSE stream to end');
      expect(sse.frames.at(-1)?.data).toMatchObject({ type: 'error', code: 'shutting_down' });
      await until(() => client.status === 'offline', { what: 'client offline' });
      expect(statuses).toEqual(['online', 'offline']);
    } finally {
      client.close();
    }
  });
});
