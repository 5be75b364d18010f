// Real-time sync through real sockets (DESIGN §5, docs/realtime.md): resume without gap or
// duplicate while writes go on, SSE with Last-Event-ID, isolation, authentication close
// codes, per-user connection limit, slow consumers, inbound limits and dead connections.
import http from 'node:http';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRealtimeClient } from '../src/client/realtime-client.js';
import { appendEvents } from '../src/events/append-events.js';
import { comparePositions, START } from '../src/events/read-events.js';
import type { AggregateType, EventType } from '../src/events/types.js';
import { visibleEvents } from '../src/lists/access.js';
import { decodeCursor, encodeCursor } from '../src/realtime/cursor.js';
import type { ServerFrame } from '../src/realtime/schema.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { testDatabaseKind } from './support/databases.js';
import { accessClaims, jwtSignedWith, withTamperedPayload } from './support/jwt.js';
import { metricSample } from './support/metrics.js';
import { expectProblem } from './support/problems.js';
import { openSocket, openSse, subscribedSocket, type TestSocket } from './support/realtime.js';
import { until } from './support/until.js';

const JWT_SECRET = 'realtime-test-secret-0123456789-abcdefghij';
const MAX_CONNECTIONS = 3;
const START_CURSOR = encodeCursor(START);

type EventFrame = Extract<ServerFrame, { type: 'event' }>;

describeWithDatabase('real-time sync over WebSocket and SSE', () => {
  let t: TestApp;
  let address: string;
  const sockets: TestSocket[] = [];
  const track = (socket: TestSocket) => {
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    t = await startTestApp({
      workers: false,
      env: {
        PORT: '0',
        HOST: '127.0.0.1',
        JWT_SECRET,
        REALTIME_MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS),
        // Heartbeats and dead peers: realtime-lifecycle.test.ts. Here a paused reader must be slow, not dead.
        REALTIME_HEARTBEAT_INTERVAL_MS: '60000',
        REALTIME_MAX_BUFFERED_BYTES: '65536',
        REALTIME_MAX_MESSAGE_BYTES: '1024',
        REALTIME_MAX_MESSAGES_PER_SECOND: '10',
        REALTIME_AUTH_TIMEOUT_MS: '300',
      },
    });
    address = await t.app.listen();
  });
  afterAll(async () => {
    for (const socket of sockets) socket.ws.terminate();
    await t.close();
  });

  const createTask = async (user: TestUser, title: string) => {
    const res = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string };
  };
  /**
   * Every event the user may see, as cursors in log order: the ground truth, once the
   * writers are done. Not xmin-gated (it would wait for any other transaction on the cluster).
   */
  const userCursors = async (user: TestUser) =>
    (
      await visibleEvents(t.app.database.db, user.id)
        .select(['events.seq', sql<string>`events.tx_id::text`.as('tx_id')])
        .orderBy(sql`events.tx_id`)
        .orderBy('events.seq')
        .execute()
    ).map((e) => encodeCursor({ txId: e.tx_id, seq: e.seq }));
  const metrics = async () => (await call(t.app, 'GET', '/metrics')).body as string;

  it('a client that re-connects while writes go on receives every one of its events exactly once, in log order', async () => {
    const user = await signUp(t.app);
    const received: string[] = [];
    const readyCursors: string[] = [];
    const client = createRealtimeClient({ url: address, token: user.token, topics: ['activity'], cursor: START_CURSOR });
    // A second client that never drops: from its first ready on, it must see the same suffix.
    const steady = createRealtimeClient({ url: address, token: user.token, topics: ['tasks', 'activity'] });
    const steadyReceived: string[] = [];
    let steadyFrom: string | null = null;
    steady.on('ready', (f) => {
      steadyFrom ??= f.cursor;
    });
    steady.on('event', (f) => steadyReceived.push(f.cursor));
    client.on('ready', (f) => readyCursors.push(f.cursor));
    // Drop the connection at several points, mid-replay and mid-live alike.
    const dropAt = new Set([3, 15, 30, 45]);
    let drops = 0;
    client.on('event', (f) => {
      received.push(f.cursor);
      if (dropAt.has(received.length)) {
        queueMicrotask(() => {
          drops++;
          client.reconnect();
        });
      }
    });
    try {
      await until(() => steady.status === 'online', { what: 'steady client online' });
      // Three concurrent writers: create, rename, complete — 3 events per round.
      await Promise.all(
        [0, 1, 2].map(async (w) => {
          for (let i = 0; i < 6; i++) {
            const task = await createTask(user, `writer ${w} task ${i}`);
            await call(t.app, 'PATCH', `/api/v1/tasks/${task.id}`, { token: user.token, body: { title: `renamed ${w}.${i}` } });
            await call(t.app, 'POST', `/api/v1/tasks/${task.id}/complete`, { token: user.token });
          }
        }),
      );
      const expected = await userCursors(user);
      expect(expected.length).toBe(2 + 3 * 6 * 3);
      await until(() => received.length >= expected.length, { timeoutMs: 20_000, what: `${expected.length} events` });
      expect(received).toEqual(expected);
      expect(drops).toBe(dropAt.size);
      expect(readyCursors.length).toBeGreaterThanOrEqual(2);
      // The steady client: exactly the events after its first ready cursor.
      const from = decodeCursor(steadyFrom ?? '');
      expect(from).not.toBeNull();
      const after = expected.filter((c) => comparePositions(decodeCursor(c) ?? START, from ?? START) > 0);
      await until(() => steadyReceived.length >= after.length, { what: 'steady client caught up' });
      expect(steadyReceived).toEqual(after);
    } finally {
      client.close();
      steady.close();
    }
    expect(client.status).toBe('closed');
  });

  it.runIf(testDatabaseKind() === 'postgres')(
    'resume stays gap-free when transactions commit out of seq order (8 writers holding transactions open)',
    async () => {
      const user = await signUp(t.app);
      const received: string[] = [];
      const client = createRealtimeClient({ url: address, token: user.token, topics: ['tasks'], cursor: START_CURSOR });
      client.on('event', (f) => {
        received.push(f.cursor);
        if (received.length % 10 === 0) queueMicrotask(() => client.reconnect());
      });
      try {
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            const aggregateId = crypto.randomUUID();
            for (let version = 1; version <= 25; version++) {
              await t.app.transact(async (tx) => {
                await appendEvents(tx, { userId: user.id, correlationId: null }, new Date(), [
                  {
                    type: 'task.updated',
                    aggregateType: 'task',
                    aggregateId,
                    aggregateVersion: version,
                    userId: user.id,
                    data: {},
                  },
                ]);
                // The seq is taken; a later one commits first.
                await sql`SELECT pg_sleep(${Math.random() * 0.02})`.execute(tx.q);
              });
            }
          }),
        );
        // Every event but the first, user.registered (topic activity).
        const expected = (await userCursors(user)).slice(1);
        expect(expected.length).toBe(1 + 8 * 25);
        await until(() => received.length >= expected.length, { timeoutMs: 20_000, what: 'every event' });
        expect(received).toEqual(expected);
      } finally {
        client.close();
      }
    },
  );

  it('an SSE stream resumes after Last-Event-ID with exactly the missed events, then streams live', async () => {
    const user = await signUp(t.app);
    const first = await openSse(address, { token: user.token, query: '?topics=tasks' });
    expect(first.status).toBe(200);
    await first.frame((f) => f.data.type === 'ready', 'ready');
    await createTask(user, 'seen live');
    // (Without a cursor the stream starts at the server's tail, which may trail the sign-up's events.)
    const seen = await first.frame((f) => f.data.type === 'event' && f.data.event.data.title === 'seen live', 'the live event');
    expect(seen.id).toBe((seen.data as EventFrame).cursor);
    expect((seen.data as EventFrame).event).toMatchObject({ type: 'task.created', summary: "Created 'seen live'" });
    first.close();

    await createTask(user, 'missed 1');
    await createTask(user, 'missed 2');
    const resumed = await openSse(address, { token: user.token, query: '?topics=tasks', lastEventId: seen.id ?? '' });
    // (How many come from the replay and how many live depends on timing; the sequence does not.)
    await resumed.frame((f) => f.data.type === 'ready', 'ready after replay');
    await createTask(user, 'live again');
    await resumed.frame((f) => f.data.type === 'event' && f.data.event.data.title === 'live again', 'the live event');
    const titles = resumed.frames.filter((f) => f.data.type === 'event').map((f) => (f.data as EventFrame).event.data.title);
    expect(titles).toEqual(['missed 1', 'missed 2', 'live again']);
    resumed.close();
  });

  it("a user never receives another user's events, whatever cursor or topics they subscribe with", async () => {
    const alice = await signUp(t.app);
    const bob = await signUp(t.app);
    const aliceSocket = track(await subscribedSocket(address, alice.token, { topics: ['activity'] }));
    await createTask(alice, 'alice secret');
    const aliceEvent = await aliceSocket.frame<EventFrame>((f) => f.type === 'event', "alice's event");
    // Bob replays from the very start, and from a cursor taken from Alice's stream.
    const bobFromStart = track(
      await subscribedSocket(address, bob.token, { topics: ['tasks', 'reminders', 'activity'], after: START_CURSOR }),
    );
    const bobFromAlice = track(await subscribedSocket(address, bob.token, { topics: ['activity'], after: aliceEvent.cursor }));
    const bobSse = await openSse(address, { token: bob.token, lastEventId: START_CURSOR });
    await bobSse.frame((f) => f.data.type === 'ready', 'ready');
    await createTask(alice, 'alice again');
    await createTask(bob, 'bob own');
    for (const socket of [bobFromStart, bobFromAlice]) {
      await socket.frame((f) => f.type === 'event' && f.event.data.title === 'bob own', "bob's task");
    }
    await bobSse.frame((f) => f.data.type === 'event' && f.data.event.data.title === 'bob own', "bob's task over SSE");
    const bobs = new Set(await userCursors(bob));
    for (const cursor of [...bobFromStart.events(), ...bobFromAlice.events()].map((f) => f.cursor))
      expect(bobs).toContain(cursor);
    for (const f of bobSse.frames) if (f.data.type === 'event') expect(bobs).toContain(f.data.cursor);
    expect(JSON.stringify([bobFromStart.frames, bobFromAlice.frames, bobSse.frames])).not.toContain('alice');
    // Naming a user is not part of the protocol.
    bobFromStart.send({ action: 'subscribe', topics: ['tasks'], user_id: alice.id });
    await bobFromStart.frame((f) => f.type === 'error' && f.code === 'bad_message', 'bad_message');
    bobSse.close();
  });

  it('authentication failures close the WebSocket with 4401 and a reason, and SSE answers 401', async () => {
    const user = await signUp(t.app);
    const expired = await jwtSignedWith(JWT_SECRET, { ...accessClaims(user.id), exp: Math.floor(Date.now() / 1000) - 60 });
    const tampered = withTamperedPayload(user.token, (claims) => ({ ...claims, sub: crypto.randomUUID() }));
    const cases: Array<{ token: string | null; via: 'message' | 'protocol' | 'query' | 'header' | 'none'; reason: string }> = [
      { token: null, via: 'none', reason: 'auth_timeout' },
      { token: expired, via: 'message', reason: 'token_expired' },
      { token: expired, via: 'query', reason: 'token_expired' },
      { token: tampered, via: 'protocol', reason: 'token_invalid' },
      { token: 'not-a-token', via: 'header', reason: 'token_invalid' },
    ];
    const authFailures = (exposition: string) =>
      metricSample(exposition, 'taskflow_realtime_disconnects_total', { transport: 'ws', reason: 'auth_failed' }) ?? 0;
    const failuresBefore = authFailures(await metrics());
    for (const { token, via, reason } of cases) {
      const socket = await openSocket(address, token, via);
      expect(await socket.closed, `${via} ${reason}`).toEqual({ code: 4401, reason });
    }
    const unauthenticated = await openSocket(address, null, 'none');
    unauthenticated.send({ action: 'subscribe', topics: ['tasks'] });
    expect(await unauthenticated.closed).toEqual({ code: 4401, reason: 'auth_required' });

    for (const [options, reason] of [
      [{}, 'auth_required'],
      [{ token: expired }, 'token_expired'],
      [{ query: `?access_token=${tampered}` }, 'token_invalid'],
    ] as const) {
      const res = await fetch(`${address}/api/v1/events/stream${'query' in options ? options.query : ''}`, {
        headers: 'token' in options ? { authorization: `Bearer ${options.token}` } : {},
      });
      const body = (await res.json()) as { reason: string };
      expectProblem({ status: res.status, headers: Object.fromEntries(res.headers), body }, 401, 'unauthorized');
      expect(body.reason).toBe(reason);
    }
    expect(authFailures(await metrics()) - failuresBefore).toBe(cases.length + 1);
  });

  it('a user holds at most REALTIME_MAX_CONNECTIONS_PER_USER connections at once', async () => {
    const user = await signUp(t.app);
    const open = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++)
      open.push(track(await subscribedSocket(address, user.token, { topics: ['tasks'] })));
    const extra = await openSocket(address, user.token, 'protocol');
    expect(await extra.closed).toEqual({ code: 4429, reason: 'too_many_connections' });
    const sse = await fetch(`${address}/api/v1/events/stream?access_token=${user.token}`);
    expectProblem({ status: sse.status, headers: Object.fromEntries(sse.headers), body: await sse.json() }, 429, 'rate_limited');
    // Another user is not affected; a freed slot can be used again.
    track(await subscribedSocket(address, (await signUp(t.app)).token, { topics: ['tasks'] }));
    open[0]?.close();
    await open[0]?.closed;
    await until(
      async () => {
        const again = await openSocket(address, user.token, 'header');
        again.send({ action: 'subscribe', topics: ['tasks'] });
        const outcome = await Promise.race([
          again.frame((f) => f.type === 'ready', 'ready', 2000).then(() => 'ready'),
          again.closed,
        ]);
        if (outcome !== 'ready') return false;
        track(again);
        return true;
      },
      { what: 'a connection in the freed slot' },
    );
  });

  it('a client that stops reading is disconnected as a slow consumer instead of buffered without bound', async () => {
    const user = await signUp(t.app);
    const socket = await subscribedSocket(address, user.token, { topics: ['tasks'] });
    const sseGone = slowSseReader(`${address}/api/v1/events/stream?access_token=${user.token}`);
    const rawSocket = (socket.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    rawSocket.pause();
    const slow = (transport: string) =>
      metricSample(exposition, 'taskflow_realtime_disconnects_total', { transport, reason: 'slow_consumer' }) ?? 0;
    let exposition = await metrics();
    const before = { ws: slow('ws'), sse: slow('sse') };
    // 64 KiB events until both streams are cut (the kernel's socket buffers absorb a few MB first).
    for (let round = 0; round < 4 && !(slow('ws') > before.ws && slow('sse') > before.sse); round++) {
      await appendBigEvents(t, user, 60);
      await until(
        async () => {
          exposition = await metrics();
          return slow('ws') > before.ws && slow('sse') > before.sse;
        },
        { timeoutMs: 3000, what: 'both slow consumers disconnected' },
      ).catch(() => undefined);
    }
    expect({ ws: slow('ws') - before.ws, sse: slow('sse') - before.sse }).toEqual({ ws: 1, sse: 1 });
    rawSocket.resume();
    expect(await socket.closed).toEqual({ code: 4008, reason: 'slow_consumer' });
    await sseGone;
  });

  it('answers pings, rejects malformed, oversized and too frequent messages', async () => {
    const user = await signUp(t.app);
    const socket = track(await subscribedSocket(address, user.token, { topics: ['tasks'] }));
    socket.send({ action: 'ping' });
    await socket.frame((f) => f.type === 'pong', 'pong');
    socket.send('{not json');
    await socket.frame((f) => f.type === 'error' && f.code === 'bad_message', 'bad_message');
    socket.send({ action: 'auth', token: user.token });
    await socket.frame((f) => f.type === 'error' && f.code === 'already_authenticated', 'already_authenticated');
    socket.send({ action: 'unsubscribe', topics: ['tasks'] });
    await socket.frame((f) => f.type === 'unsubscribed', 'unsubscribed');
    socket.send({ action: 'subscribe', topics: ['nonsense'] });
    await until(() => socket.frames.filter((f) => f.type === 'error' && f.code === 'bad_message').length === 2, {
      what: 'unknown topic rejected',
    });

    const flooder = await subscribedSocket(address, user.token, { topics: ['tasks'] });
    for (let i = 0; i < 60; i++) flooder.send({ action: 'ping' });
    await flooder.frame((f) => f.type === 'error' && f.code === 'rate_limited', 'rate_limited');
    expect(await flooder.closed).toEqual({ code: 4429, reason: 'rate_limited' });

    const big = await subscribedSocket(address, user.token, { topics: ['tasks'] });
    big.send({ action: 'ping', padding: 'x'.repeat(2000) });
    expect((await big.closed).code).toBe(1009);
  });

  it('a reminder.fired event reaches reminder subscribers as an event and a reminder toast', async () => {
    const user = await signUp(t.app);
    const task = await createTask(user, 'Call mom');
    const reminders = track(await subscribedSocket(address, user.token, { topics: ['reminders'] }));
    const tasksOnly = track(await subscribedSocket(address, user.token, { topics: ['tasks'] }));
    await t.app.transact((tx) =>
      appendEvents(tx, { userId: user.id, correlationId: null }, new Date(), [
        {
          type: 'reminder.fired' as EventType,
          aggregateType: 'reminder' as AggregateType,
          aggregateId: crypto.randomUUID(),
          aggregateVersion: 1,
          userId: user.id,
          data: { task_id: task.id, remind_at: '2026-12-01T09:00:00Z' },
        },
      ]),
    );
    const toast = await reminders.frame<Extract<ServerFrame, { type: 'reminder' }>>((f) => f.type === 'reminder', 'reminder');
    expect(toast.reminder).toMatchObject({ task_id: task.id, title: 'Call mom' });
    const event = reminders.events()[0];
    expect(event).toMatchObject({ topic: 'reminders', cursor: toast.cursor, event: { type: 'reminder.fired' } });
    await createTask(user, 'after the reminder');
    await tasksOnly.frame((f) => f.type === 'event' && f.event.data.title === 'after the reminder', 'the next task event');
    expect(tasksOnly.frames.some((f) => f.type === 'reminder' || (f.type === 'event' && f.topic === 'reminders'))).toBe(false);
  });

  it('a malformed cursor answers reset, then the stream goes live', async () => {
    const user = await signUp(t.app);
    const socket = track(await openSocket(address, user.token));
    socket.send({ action: 'subscribe', topics: ['tasks'], after: 'not-a-cursor' });
    await socket.frame((f) => f.type === 'ready', 'ready');
    expect(socket.frames.map((f) => f.type)).toEqual(['reset', 'ready']);
    expect(socket.frames[0]).toEqual({ type: 'reset', reason: 'malformed_cursor' });
    await createTask(user, 'after the reset');
    await socket.frame((f) => f.type === 'event', 'a live event');
  });
});

/** Appends `count` task events of ~64 KiB each for the user, in one transaction. */
async function appendBigEvents(t: TestApp, user: TestUser, count: number): Promise<void> {
  const padding = 'x'.repeat(64 * 1024);
  await t.app.transact((tx) =>
    appendEvents(
      tx,
      { userId: user.id, correlationId: null },
      new Date(),
      Array.from({ length: count }, () => ({
        type: 'task.updated' as const,
        aggregateType: 'task' as const,
        aggregateId: crypto.randomUUID(),
        aggregateVersion: 2,
        userId: user.id,
        data: { before: { description: '' }, after: { description: padding } },
      })),
    ),
  );
}

/** An SSE client that reads the headers, then nothing; resolves when the server drops it. */
function slowSseReader(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, (res) => {
      if (res.statusCode !== 200) reject(new Error(`SSE answered ${res.statusCode}`));
      res.pause();
      res.socket.pause();
      res.socket.once('close', () => resolve());
    });
    request.on('error', () => resolve());
  });
}
