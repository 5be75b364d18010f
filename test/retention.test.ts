// Event retention (EVENT_RETENTION_DAYS): events older than the cutoff that every consumer
// has handled move to events_archive unchanged; recent events, and events some consumer
// has not handled yet, stay in the log. Time is a ManualClock: "100 days ago" is real.
import { sql } from 'kysely';
import { afterAll, expect, inject, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import type { Consumer } from '../src/events/consumer.js';
import { archiveEvents } from '../src/events/retention.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestAppOptions } from './support/app.js';
import { type CliProcess, cliEnv, exitOf, spawnCli } from './support/cli.js';
import { copyTemplate, type DatabaseCopy } from './support/databases.js';
import { until } from './support/until.js';

const DAY = 86_400_000;
const NOW = new Date('2026-03-01T12:00:00Z');
const daysBefore = (now: Date, days: number) => new Date(now.getTime() - days * DAY);
const CUTOFF = daysBefore(NOW, 30);
const slow = { timeout: 60_000 };

/** Every column an archived event must keep, as comparable values. */
const EVENT_FIELDS = sql.raw(
  'seq, event_id, type, user_id, actor_id, aggregate_type, aggregate_id, aggregate_version, correlation_id, ' +
    'causation_id, occurred_at, data, schema_version, tx_id::text AS tx_id',
);

describeWithDatabase('event retention', () => {
  const apps: TestApp[] = [];
  const copies: DatabaseCopy[] = [];
  const children: CliProcess[] = [];
  afterAll(async () => {
    for (const child of children) await child.stop();
    // close() drops each app's copy; the explicit drop covers copies no app owns (and is idempotent).
    for (const t of apps) await t.close();
    for (const copy of copies) await copy.drop();
  });

  /**
   * A user who created two tasks 100 days before `now` (one of them edited then) and one
   * task at `now`. Returns the app with its clock at `now`, and the tasks' ids.
   */
  async function world(options: TestAppOptions & { now?: Date } = {}) {
    const now = options.now ?? NOW;
    const clock = new ManualClock(daysBefore(now, 100));
    const t = await startTestApp({ workers: false, ...options, clock });
    apps.push(t);
    copies.push(t.database);
    const user = await signUp(t.app);
    const create = async (token: string, title: string) => {
      const res = await call(t.app, 'POST', '/api/v1/tasks', { token, body: { title } });
      expect(res.status).toBe(201);
      return res.body.id as string;
    };
    const oldA = await create(user.token, 'old a');
    const oldB = await create(user.token, 'old b');
    const edit = await call(t.app, 'PATCH', `/api/v1/tasks/${oldB}`, { token: user.token, body: { title: 'old b, edited' } });
    expect(edit.status).toBe(200);
    clock.set(now);
    // The sign-up's access token expired during those 100 days.
    const login = await call(t.app, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect(login.status).toBe(200);
    const token: string = login.body.access_token;
    const recent = await create(token, 'recent');
    return { t, clock, user, token, oldA, oldB, recent };
  }

  const eventsOf = async (t: TestApp, table: 'events' | 'events_archive', aggregateIds: string[]) =>
    (
      await sql<Record<string, unknown>>`
        SELECT ${EVENT_FIELDS} FROM ${sql.table(table)} WHERE aggregate_id IN (${sql.join(aggregateIds)}) ORDER BY seq`.execute(
        t.app.database.db,
      )
    ).rows;

  const countOf = async (t: TestApp, query: ReturnType<typeof sql<{ n: number }>>) =>
    (await query.execute(t.app.database.db)).rows[0]?.n;

  it('archiving moves handled events older than the cutoff to events_archive unchanged and keeps recent ones', async () => {
    const { t, oldA, oldB, recent } = await world();
    const oldBefore = await eventsOf(t, 'events', [oldA, oldB]);
    expect(oldBefore).toHaveLength(3);
    const recentBefore = await eventsOf(t, 'events', [recent]);
    const olderThanCutoff = await countOf(
      t,
      sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE occurred_at < ${CUTOFF}`,
    );

    const moved = await archiveEvents(t.app.database.db, CUTOFF);

    // Everything older than the cutoff, sign-up events included: no consumer holds anything back.
    expect(moved).toBe(olderThanCutoff);
    expect(await eventsOf(t, 'events_archive', [oldA, oldB])).toEqual(oldBefore);
    expect(await eventsOf(t, 'events', [oldA, oldB])).toEqual([]);
    expect(await eventsOf(t, 'events', [recent])).toEqual(recentBefore);
    expect(await eventsOf(t, 'events_archive', [recent])).toEqual([]);
    expect(await countOf(t, sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE occurred_at < ${CUTOFF}`)).toBe(0);
    // Nothing left to move: a second run is a no-op.
    expect(await archiveEvents(t.app.database.db, CUTOFF)).toBe(0);
  });

  it('an event that some consumer has not handled yet is never archived, however old', async () => {
    const laggard: Consumer = { name: 'retention-laggard', handles: 'all', handle: async () => {} };
    const { t, oldA, oldB } = await world({ extraConsumers: [laggard] });
    const db = t.app.database.db;
    // The consumer is registered but its workers never ran: its checkpoint is at the start.
    await sql`INSERT INTO consumer_checkpoints (consumer, partition, tx_id, seq) VALUES ('retention-laggard', 0, '0', 0)`.execute(
      db,
    );
    const before = await countOf(t, sql<{ n: number }>`SELECT count(*)::int AS n FROM events`);
    expect(await archiveEvents(db, CUTOFF)).toBe(0);
    expect(await countOf(t, sql<{ n: number }>`SELECT count(*)::int AS n FROM events`)).toBe(before);

    // Once it has handled up to 'old a' (not 'old b'), exactly the events up to there move.
    const [createdA] = await eventsOf(t, 'events', [oldA]);
    await sql`UPDATE consumer_checkpoints SET tx_id = ${createdA?.tx_id}::xid8, seq = ${createdA?.seq}::bigint
              WHERE consumer = 'retention-laggard'`.execute(db);
    const handledAndOld = await countOf(
      t,
      sql<{ n: number }>`SELECT count(*)::int AS n FROM events
        WHERE (tx_id, seq) <= (${createdA?.tx_id}::xid8, ${createdA?.seq}::bigint) AND occurred_at < ${CUTOFF}`,
    );
    expect(await archiveEvents(db, CUTOFF)).toBe(handledAndOld);
    expect((await eventsOf(t, 'events_archive', [oldA, oldB])).map((e) => e.aggregate_id)).toEqual([oldA]);
    expect(await eventsOf(t, 'events', [oldB])).toHaveLength(2);
  });

  it('starting the workers with EVENT_RETENTION_DAYS archives old handled events', async () => {
    const { t, oldA, oldB, recent } = await world({ env: { EVENT_RETENTION_DAYS: '30' } });
    await t.app.startWorkers();
    await until(async () => (await eventsOf(t, 'events_archive', [oldA, oldB])).length === 3, {
      timeoutMs: 10_000,
      what: 'the old events to be archived',
    });
    expect(await eventsOf(t, 'events', [recent])).toHaveLength(1);
  });

  it("an archived task's history still lists its archived events", async () => {
    const { t, token, oldB } = await world();
    const before = await call(t.app, 'GET', `/api/v1/tasks/${oldB}/history`, { token });
    expect(before.status).toBe(200);
    expect(before.body.items).toHaveLength(2);
    await archiveEvents(t.app.database.db, CUTOFF);
    const after = await call(t.app, 'GET', `/api/v1/tasks/${oldB}/history`, { token });
    expect({ status: after.status, items: after.body.items }).toEqual({ status: 200, items: before.body.items });
  });

  it('`archive-events` without EVENT_RETENTION_DAYS exits non-zero and says what to set', slow, async () => {
    const database = await copyTemplate(inject('databaseTemplate'));
    copies.push(database);
    const cli = spawnCli(['archive-events'], cliEnv(database));
    children.push(cli);
    const { code } = await exitOf(cli, 30_000, 'taskflow archive-events');
    expect(code).not.toBe(0);
    expect(cli.stderr()).toContain('set EVENT_RETENTION_DAYS to archive events');
  });

  it('`archive-events` with EVENT_RETENTION_DAYS moves the old events and logs how many', slow, async () => {
    // Real time this time: the CLI's cutoff is 30 days before the wall clock.
    const { t, oldA, oldB, recent } = await world({ now: new Date() });
    const oldEvents = await countOf(
      t,
      sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE occurred_at < ${daysBefore(new Date(), 30)}`,
    );
    // A PGlite data directory has one owner at a time: the CLI gets it to itself.
    await t.close({ keepDatabase: true });
    const cli = spawnCli(['archive-events'], cliEnv(t.database, { EVENT_RETENTION_DAYS: '30' }));
    children.push(cli);
    const { code } = await exitOf(cli, 45_000, 'taskflow archive-events');
    expect(code, cli.stderr()).toBe(0);
    expect(cli.logs.find((l) => l.msg === 'events archived')).toMatchObject({ moved: oldEvents });

    const reopened = await startTestApp({ database: t.database, workers: false });
    apps.push(reopened);
    expect((await eventsOf(reopened, 'events_archive', [oldA, oldB])).length).toBe(3);
    expect(await eventsOf(reopened, 'events', [recent])).toHaveLength(1);
  });
});
