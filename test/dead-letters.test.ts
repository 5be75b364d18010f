// Poison events (DESIGN §2): a handler that keeps failing is retried with backoff, then
// its event goes to dead_letters and the consumer moves on; admins see dead letters over
// the API and in /metrics and can retry one. A failed attempt leaves none of its writes.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Consumer } from '../src/events/consumer.js';
import {
  call,
  consumersCaughtUp,
  describeWithDatabase,
  signUp,
  startTestApp,
  type TestApp,
  type TestUser,
} from './support/app.js';
import { metricSample } from './support/metrics.js';
import { expectProblem } from './support/problems.js';
import { until } from './support/until.js';

// The runner's first retry waits retryBaseMs = 200 ms ±50%, then doubles: three attempts
// take up to ~1 s, more on a busy machine.
const DEAD_LETTER_MS = 15_000;

interface Handled {
  title: string;
  at: number;
}

describeWithDatabase('dead letters', () => {
  let t: TestApp;
  let user: TestUser;
  /** Titles the poison-test consumer handled successfully, in order. */
  const handled: Handled[] = [];
  let poisonFails = true;

  const poisonConsumer: Consumer = {
    name: 'poison-test',
    handles: ['task.created'],
    maxAttempts: 3,
    // It records into memory, an effect outside the database: isolate each event.
    externalEffects: true,
    async handle(event) {
      const title = String(event.data.title);
      if (title === 'poison' && poisonFails) throw new Error(`cannot digest ${title}`);
      handled.push({ title, at: Date.now() });
    },
  };

  // Writes first, then fails for one title: the write must be rolled back with the attempt.
  const halfWritingConsumer: Consumer = {
    name: 'half-writing',
    handles: ['task.created'],
    maxAttempts: 1,
    async handle(event, tx) {
      const title = String(event.data.title);
      await sql`INSERT INTO handler_writes (event_id, title) VALUES (${event.eventId}, ${title})`.execute(tx.q);
      if (title === 'explodes') throw new Error('failed after writing');
    },
  };

  beforeAll(async () => {
    t = await startTestApp({
      extraConsumers: [poisonConsumer, halfWritingConsumer],
      env: { CONSUMER_POLL_INTERVAL_MS: '20' },
    });
    // Before any task exists, so no task.created event can reach the handler first.
    await sql`CREATE TABLE handler_writes (event_id uuid NOT NULL, title text NOT NULL)`.execute(t.app.database.db);
    user = await signUp(t.app);
  });
  afterAll(() => t?.close());

  async function createTask(title: string): Promise<string> {
    const res = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title } });
    expect(res.status).toBe(201);
    return res.body.id;
  }

  async function deadLetterOf(consumer: string, taskId: string) {
    return t.app.database.db
      .selectFrom('dead_letters')
      .innerJoin('events', 'events.event_id', 'dead_letters.event_id')
      .selectAll('dead_letters')
      .where('dead_letters.consumer', '=', consumer)
      .where('events.aggregate_id', '=', taskId)
      .executeTakeFirst();
  }

  // Tasks 'a', 'poison', 'b' once for the whole file; every test that needs them waits here.
  let poisoned: Promise<{ poisonTaskId: string; deadLetterId: string }> | undefined;
  const poisonOnce = () => {
    poisoned ??= (async () => {
      await createTask('a');
      const poisonTaskId = await createTask('poison');
      await createTask('b');
      const letter = await until(() => deadLetterOf('poison-test', poisonTaskId), {
        timeoutMs: DEAD_LETTER_MS,
        what: 'the poison event to be dead-lettered',
      });
      return { poisonTaskId, deadLetterId: letter.id };
    })();
    return poisoned;
  };

  const adminToken = async () => {
    await t.app.auth.grantAdmin(user.email);
    const login = await call(t.app, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    return login.body.access_token as string;
  };

  it('an event that fails maxAttempts times is dead-lettered with its error and the consumer moves on', async () => {
    const { poisonTaskId } = await poisonOnce();
    await until(() => handled.some((h) => h.title === 'b'), { timeoutMs: DEAD_LETTER_MS, what: "task 'b' to be handled" });
    expect(handled.map((h) => h.title).filter((title) => ['a', 'poison', 'b'].includes(title))).toEqual(['a', 'b']);

    const letter = await deadLetterOf('poison-test', poisonTaskId);
    const event = await t.app.database.db
      .selectFrom('events')
      .select(['event_id', 'seq'])
      .where('aggregate_id', '=', poisonTaskId)
      .where('type', '=', 'task.created')
      .executeTakeFirstOrThrow();
    expect(letter).toMatchObject({
      consumer: 'poison-test',
      event_id: event.event_id,
      event_seq: event.seq,
      event_type: 'task.created',
      attempts: 3,
      error: 'Error: cannot digest poison',
      status: 'pending',
      resolved_at: null,
    });
    if (!letter) throw new Error('no dead letter');
    // Retried with backoff: at least 200 ms × 0.5 + 400 ms × 0.5 between the first and last attempt.
    expect(letter.last_failed_at.getTime() - letter.first_failed_at.getTime()).toBeGreaterThanOrEqual(290);
    // 'b' was handled only after the consumer gave up on the poison event, not skipped past it.
    const b = handled.find((h) => h.title === 'b');
    expect(b?.at).toBeGreaterThanOrEqual(letter.last_failed_at.getTime());
    await consumersCaughtUp(t.app, undefined, { timeoutMs: DEAD_LETTER_MS, what: 'every consumer to catch up' });
  });

  it('dead letters are listed only for admins, and for them only once they log in again', async () => {
    const { deadLetterId, poisonTaskId } = await poisonOnce();
    const url = '/api/v1/admin/dead-letters?consumer=poison-test';
    expectProblem(await call(t.app, 'GET', url), 401, 'unauthorized');
    expectProblem(await call(t.app, 'GET', url, { token: user.token }), 403, 'forbidden');

    const token = await adminToken();
    // The role travels in the access token: the one issued before the grant is still a user's.
    expectProblem(await call(t.app, 'GET', url, { token: user.token }), 403, 'forbidden');
    const list = await call(t.app, 'GET', url, { token });
    expect(list.status).toBe(200);
    const event = await t.app.database.db
      .selectFrom('events')
      .select('event_id')
      .where('aggregate_id', '=', poisonTaskId)
      .executeTakeFirstOrThrow();
    expect(list.body.items).toEqual([
      expect.objectContaining({
        id: deadLetterId,
        consumer: 'poison-test',
        event_id: event.event_id,
        event_type: 'task.created',
        error: 'Error: cannot digest poison',
      }),
    ]);
  });

  it('/metrics counts dead letters per consumer', async () => {
    await poisonOnce();
    const res = await call(t.app, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(metricSample(res.body, 'taskflow_dead_letters_total', { consumer: 'poison-test' })).toBe(1);
  });

  it('retrying a dead letter reports the error while the handler still fails, and resolves it once it succeeds', async () => {
    const { deadLetterId } = await poisonOnce();
    const token = await adminToken();
    const retry = () => call(t.app, 'POST', `/api/v1/admin/dead-letters/${deadLetterId}/retry`, { token });

    const before = await t.app.database.db
      .selectFrom('dead_letters')
      .select('attempts')
      .where('id', '=', deadLetterId)
      .executeTakeFirstOrThrow();
    const failing = await retry();
    expect(failing.status).toBe(200);
    expect(failing.body).toMatchObject({
      ok: false,
      error: 'Error: cannot digest poison',
      dead_letter: { id: deadLetterId, status: 'pending', attempts: before.attempts + 1, resolved_at: null },
    });
    expect(handled.some((h) => h.title === 'poison')).toBe(false);

    poisonFails = false;
    const fixed = await retry();
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ ok: true, dead_letter: { id: deadLetterId, status: 'resolved' } });
    expect(fixed.body.dead_letter.resolved_at).toEqual(expect.any(String));
    expect(handled.filter((h) => h.title === 'poison')).toHaveLength(1);

    const resolved = await call(t.app, 'GET', '/api/v1/admin/dead-letters?status=resolved&consumer=poison-test', { token });
    expect(resolved.body.items.map((d: { id: string }) => d.id)).toEqual([deadLetterId]);
    const pending = await call(t.app, 'GET', '/api/v1/admin/dead-letters?status=pending&consumer=poison-test', { token });
    expect(pending.body.items).toEqual([]);
    expectProblem(
      await call(t.app, 'POST', `/api/v1/admin/dead-letters/${crypto.randomUUID()}/retry`, { token }),
      404,
      'not_found',
    );
  });

  it('a handler that writes and then throws leaves none of its writes behind', async () => {
    await createTask('fine-1');
    const explodes = await createTask('explodes');
    await createTask('fine-2');
    await until(() => deadLetterOf('half-writing', explodes), { timeoutMs: DEAD_LETTER_MS, what: 'the dead letter' });
    const writes = async () =>
      (
        await sql<{ title: string; n: number }>`
          SELECT title, count(*)::int AS n FROM handler_writes WHERE title IN ('fine-1', 'explodes', 'fine-2')
          GROUP BY title ORDER BY title`.execute(t.app.database.db)
      ).rows;
    await until(async () => (await writes()).some((w) => w.title === 'fine-2'), {
      timeoutMs: DEAD_LETTER_MS,
      what: "'fine-2' to be handled",
    });
    expect(await writes()).toEqual([
      { title: 'fine-1', n: 1 },
      { title: 'fine-2', n: 1 },
    ]);
    expect(await deadLetterOf('half-writing', explodes)).toMatchObject({ attempts: 1, error: 'Error: failed after writing' });
  });
});
