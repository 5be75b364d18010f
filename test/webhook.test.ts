// Delivery of fired reminders to the outside: the per-user webhook (signed, retried with
// backoff, dead-lettered after WEBHOOK_MAX_ATTEMPTS) and Web Push (VAPID), each against a
// local HTTP server standing in for the receiver / the push service.
import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SIGNATURE_HEADER, signWebhook } from '../src/reminders/delivery.js';
import {
  call,
  consumersCaughtUp,
  describeWithDatabase,
  signUp,
  startTestApp,
  type TestApp,
  type TestUser,
} from './support/app.js';
import { until } from './support/until.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describeWithDatabase('reminder webhooks and Web Push', () => {
  let t: TestApp;
  let server: Server;
  let base: string;
  const received: Received[] = [];
  /** Status codes to answer per path, in order; then 200. */
  const script = new Map<string, number[]>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body });
        const next = script.get(req.url ?? '')?.shift() ?? 201;
        res.writeHead(next).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await startTestApp({
      workers: true,
      env: { CONSUMER_POLL_INTERVAL_MS: '50', WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_MAX_ATTEMPTS: '3' },
    });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function userWithWebhook(path: string): Promise<{ user: TestUser; secret: string }> {
    const user = await signUp(t.app);
    const res = await call(t.app, 'PATCH', '/api/v1/reminder-settings', {
      token: user.token,
      body: { webhook_url: `${base}${path}` },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return { user, secret: res.body.webhook_secret };
  }

  async function fireNow(user: TestUser): Promise<string> {
    const task = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title: 'Call mum' } });
    const r = await call(t.app, 'POST', `/api/v1/tasks/${task.body.id}/reminders`, {
      token: user.token,
      body: { remind_at: new Date(Date.now() - 1000).toISOString() },
    });
    expect(r.status).toBe(201);
    return r.body.id;
  }

  it('rejects plain-http webhook URLs other than loopback', async () => {
    const user = await signUp(t.app);
    const res = await call(t.app, 'PATCH', '/api/v1/reminder-settings', {
      token: user.token,
      body: { webhook_url: 'http://example.com/hook' },
    });
    expect(res.status).toBe(422);
  });

  it('POSTs the reminder.fired event with a signature that verifies', async () => {
    const { user, secret } = await userWithWebhook('/signed');
    const reminderId = await fireNow(user);
    const hit = await until(() => received.find((r) => r.path === '/signed'), { what: 'webhook call', timeoutMs: 10_000 });
    const body = JSON.parse(hit.body);
    expect(body).toMatchObject({ type: 'reminder.fired', data: { reminder_id: reminderId, task_title: 'Call mum' } });
    const header = String(hit.headers[SIGNATURE_HEADER]);
    const timestamp = Number(/t=(\d+)/.exec(header)?.[1]);
    expect(header).toBe(signWebhook(secret, timestamp, hit.body));
    expect(header).not.toBe(signWebhook('wrong secret', timestamp, hit.body));
    expect(hit.headers['x-taskflow-event-id']).toBe(body.id);
  });

  it('retries after 500 answers, then succeeds once', async () => {
    script.set('/flaky', [500, 500]);
    const { user } = await userWithWebhook('/flaky');
    await fireNow(user);
    await until(() => received.filter((r) => r.path === '/flaky').length >= 3, { what: 'third attempt', timeoutMs: 15_000 });
    const calls = received.filter((r) => r.path === '/flaky');
    expect(new Set(calls.map((c) => JSON.parse(c.body).id)).size).toBe(1);
    // Delivered: no dead letter, and no fourth call.
    const letters = await t.app.database.db
      .selectFrom('dead_letters')
      .selectAll()
      .where('consumer', '=', 'reminder-webhook')
      .execute();
    expect(letters.filter((l) => l.event_id === JSON.parse(calls[0]?.body ?? '{}').id)).toEqual([]);
  });

  it('dead-letters the event after WEBHOOK_MAX_ATTEMPTS failures', async () => {
    script.set('/down', [500, 502, 503, 500, 500]);
    const { user } = await userWithWebhook('/down');
    await fireNow(user);
    const letter = await until(
      async () => {
        const ids = received.filter((r) => r.path === '/down').map((r) => JSON.parse(r.body).id as string);
        if (ids.length === 0) return null;
        return t.app.database.db
          .selectFrom('dead_letters')
          .selectAll()
          .where('consumer', '=', 'reminder-webhook')
          .where('event_id', '=', ids[0] ?? '')
          .executeTakeFirst();
      },
      { what: 'dead letter', timeoutMs: 15_000 },
    );
    expect(letter.attempts).toBe(3);
    expect(letter.error).toMatch(/webhook answered 5\d\d/);
    expect(received.filter((r) => r.path === '/down')).toHaveLength(3);
  });

  it('sends a VAPID-signed, encrypted Web Push to each subscription', async () => {
    const user = await signUp(t.app);
    const key = await call(t.app, 'GET', '/api/v1/push/vapid-public-key', { token: user.token });
    expect(key.status).toBe(200);
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const sub = await call(t.app, 'POST', '/api/v1/push/subscriptions', {
      token: user.token,
      body: {
        endpoint: `${base}/push/device-1`,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
      },
    });
    expect(sub.status).toBe(201);
    await fireNow(user);
    const hit = await until(() => received.find((r) => r.path === '/push/device-1'), { what: 'push', timeoutMs: 10_000 });
    expect(hit.headers['content-encoding']).toBe('aes128gcm');
    expect(String(hit.headers.authorization)).toContain(`k=${key.body.public_key}`);
  });
  async function subscribe(user: TestUser, path: string): Promise<string> {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const sub = await call(t.app, 'POST', '/api/v1/push/subscriptions', {
      token: user.token,
      body: {
        endpoint: `${base}${path}`,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
      },
    });
    expect(sub.status).toBe(201);
    return sub.body.id;
  }

  const subscriptionsOf = (user: TestUser) =>
    t.app.database.db.selectFrom('push_subscriptions').select('endpoint').where('user_id', '=', user.id).execute();

  /** Waits until the push consumer has handled (or dead-lettered) every event appended so far. */
  const pushCaughtUp = () =>
    consumersCaughtUp(t.app, (name) => name === 'reminder-push', { timeoutMs: 15_000, what: 'push consumer caught up' });

  const pushLetters = () =>
    t.app.database.db.selectFrom('dead_letters').select('event_id').where('consumer', '=', 'reminder-push').execute();

  it('a push service answering 404 or 410 removes the subscription; the event is delivered to the others, once, not retried', async () => {
    const user = await signUp(t.app);
    script.set('/push/gone-410', [410, 410, 410, 410]);
    script.set('/push/gone-404', [404, 404, 404, 404]);
    await subscribe(user, '/push/gone-410');
    await subscribe(user, '/push/gone-404');
    await subscribe(user, '/push/alive');
    const lettersBefore = (await pushLetters()).length;

    const reminderId = await fireNow(user);
    await until(() => received.some((r) => r.path === '/push/alive'), { what: 'push to the live device', timeoutMs: 10_000 });
    await pushCaughtUp();
    const fired = await t.app.database.db
      .selectFrom('events')
      .select('event_id')
      .where('type', '=', 'reminder.fired')
      .where('aggregate_id', '=', reminderId)
      .execute();
    expect(fired).toHaveLength(1);

    expect((await subscriptionsOf(user)).map((s) => s.endpoint)).toEqual([`${base}/push/alive`]);
    // Each endpoint was asked once: the gone ones are not retried, the live one got it once.
    for (const path of ['/push/gone-410', '/push/gone-404', '/push/alive']) {
      expect(
        received.filter((r) => r.path === path),
        path,
      ).toHaveLength(1);
    }
    expect(await pushLetters()).toHaveLength(lettersBefore);

    // The next reminder goes to the live device only.
    await fireNow(user);
    await until(() => received.filter((r) => r.path === '/push/alive').length === 2, { what: 'second push', timeoutMs: 10_000 });
    await pushCaughtUp();
    expect(received.filter((r) => r.path === '/push/gone-410')).toHaveLength(1);
    expect(received.filter((r) => r.path === '/push/gone-404')).toHaveLength(1);
  });

  it('a push service answering 500 is retried with the same event until it accepts; the subscription stays', async () => {
    const user = await signUp(t.app);
    script.set('/push/flaky', [500, 503]);
    await subscribe(user, '/push/flaky');
    const lettersBefore = (await pushLetters()).length;

    await fireNow(user);
    await until(() => received.filter((r) => r.path === '/push/flaky').length >= 3, {
      what: 'third push attempt',
      timeoutMs: 15_000,
    });
    await pushCaughtUp();

    const calls = received.filter((r) => r.path === '/push/flaky');
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.headers['x-taskflow-event-id'])).size).toBe(1);
    expect((await subscriptionsOf(user)).map((s) => s.endpoint)).toEqual([`${base}/push/flaky`]);
    expect(await pushLetters()).toHaveLength(lettersBefore);
  });
});
