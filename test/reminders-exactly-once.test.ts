// Exactly once across real processes (PostgreSQL only: PGlite is one process's database).
// Three `taskflow worker` processes fire 10,000 reminders due within the same 5 seconds;
// then a worker is killed with SIGKILL in the middle of a burst and replaced. Every
// reminder must have exactly one reminder.fired event: none lost, none doubled.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { type CliProcess, cliEnv, spawnCli } from './support/cli.js';
import { testDatabaseKind } from './support/databases.js';
import { until } from './support/until.js';

const onPostgres = testDatabaseKind() === 'postgres';

describeWithDatabase('reminders fire exactly once across worker processes', () => {
  let t: TestApp;
  let user: TestUser;
  const taskIds: string[] = [];
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    if (!onPostgres) return;
    t = await startTestApp({ workers: false });
    user = await signUp(t.app);
    for (let i = 0; i < 20; i++) {
      const res = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title: `Task ${i}` } });
      taskIds.push(res.body.id);
    }
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await t?.close();
  });

  function worker(extra: Record<string, string> = {}): CliProcess {
    const w = spawnCli(['worker'], cliEnv(t.database, { CONSUMER_POLL_INTERVAL_MS: '200', ...extra }));
    workers.push(w);
    return w;
  }

  /** Schedules `count` reminders due from `startsInMs` on, spread over `spreadMs`, in one statement. */
  async function schedule(count: number, startsInMs: number, spreadMs: number): Promise<void> {
    const base = new Date(Date.now() + startsInMs);
    await sql`
      INSERT INTO reminders (id, task_id, user_id, remind_at)
      SELECT gen_random_uuid(), (${taskIds}::uuid[])[1 + i % ${taskIds.length}], ${user.id}::uuid,
             ${base}::timestamptz + (i % ${spreadMs}) * interval '1 millisecond'
      FROM generate_series(0, ${count - 1}) AS i`.execute(t.app.database.db);
    await sql`SELECT pg_notify('taskflow_reminders', '')`.execute(t.app.database.db);
  }

  async function firedPerReminder() {
    const { rows } = await sql<{ reminders: number; events: number; doubled: number; sent: number; pending: number }>`
      SELECT (SELECT count(DISTINCT aggregate_id)::int FROM events WHERE type = 'reminder.fired') AS reminders,
             (SELECT count(*)::int FROM events WHERE type = 'reminder.fired') AS events,
             (SELECT count(*)::int FROM (SELECT 1 FROM events WHERE type = 'reminder.fired'
                                         GROUP BY aggregate_id HAVING count(*) > 1) d) AS doubled,
             (SELECT count(*)::int FROM reminders WHERE status = 'sent') AS sent,
             (SELECT count(*)::int FROM reminders WHERE status = 'pending') AS pending`.execute(t.app.database.db);
    return rows[0] as { reminders: number; events: number; doubled: number; sent: number; pending: number };
  }

  it.skipIf(!onPostgres)(
    '3 workers, 10,000 reminders due within 5 s: each fires exactly once',
    async () => {
      const three = [worker(), worker(), worker()];
      await Promise.all(three.map((w) => w.waitForLog((l) => l.msg === 'reminder scheduler started', 20_000, 'scheduler')));
      await schedule(10_000, 1000, 5000);
      const done = await until(
        async () => {
          const s = await firedPerReminder();
          return s.events >= 10_000 ? s : null;
        },
        { what: '10,000 reminders fired', timeoutMs: 45_000, intervalMs: 200 },
      );
      expect(done).toEqual({ reminders: 10_000, events: 10_000, doubled: 0, sent: 10_000, pending: 0 });
      // The in-app inbox (a consumer of reminder.fired in every worker, written a batch at a
      // time) holds exactly one notification per fired reminder.
      const inbox = await until(
        async () => {
          const r = await sql<{ rows: number; reminders: number }>`
            SELECT count(*)::int AS rows, count(DISTINCT reminder_id)::int AS reminders FROM notifications`.execute(
            t.app.database.db,
          );
          return (r.rows[0]?.rows ?? 0) >= 10_000 ? r.rows[0] : null;
        },
        { what: '10,000 notifications', timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(inbox).toEqual({ rows: 10_000, reminders: 10_000 });
      for (const w of three) await w.stop();
    },
    90_000,
  );

  it.skipIf(!onPostgres)(
    'a worker killed with SIGKILL mid-burst loses and doubles nothing',
    async () => {
      await sql`DELETE FROM reminders`.execute(t.app.database.db);
      const before = (await firedPerReminder()).events;
      const small = { REMINDER_BATCH_SIZE: '50' };
      const a = worker(small);
      const b = worker(small);
      await Promise.all([a, b].map((w) => w.waitForLog((l) => l.msg === 'reminder scheduler started', 20_000, 'scheduler')));
      await schedule(10_000, 500, 10);
      // Kill one as soon as the burst is under way.
      await until(async () => (await firedPerReminder()).events > before + 500, {
        what: 'burst under way',
        timeoutMs: 20_000,
        intervalMs: 5,
      });
      a.child.kill('SIGKILL');
      await a.exited;
      const c = worker(small);
      await c.waitForLog((l) => l.msg === 'reminder scheduler started', 20_000, 'restarted scheduler');
      const done = await until(
        async () => {
          const s = await firedPerReminder();
          return s.pending === 0 && s.events - before >= 10_000 ? s : null;
        },
        { what: 'burst finished after the crash', timeoutMs: 45_000, intervalMs: 200 },
      );
      expect(done.events - before).toBe(10_000);
      expect(done.doubled).toBe(0);
      expect(done.sent).toBe(10_000);
    },
    90_000,
  );
});
