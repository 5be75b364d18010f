// Exactly-once database effects across a crash (DESIGN §2): a worker killed with SIGKILL
// in the middle of a batch loses the batch's effects together with its checkpoint, and
// the workers that take over (two at once) handle every event exactly once between them.
// PostgreSQL only: it needs several processes on one database.
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { appendEvents } from '../src/events/append-events.js';
import { describeWithDatabase, startTestApp, type TestApp } from './support/app.js';
import { type CliProcess, cliEnv, spawnScript } from './support/cli.js';
import { copyTemplate, type DatabaseCopy, testDatabaseKind } from './support/databases.js';
import { until } from './support/until.js';

const EVENTS = 3000;
const PER_TRANSACTION = 100;
const START_MS = 30_000;

describeWithDatabase('a consumer worker killed mid-batch', () => {
  let database: DatabaseCopy;
  let t: TestApp | undefined;
  const children = new Set<CliProcess>();

  beforeAll(async () => {
    if (testDatabaseKind() !== 'postgres') return;
    database = await copyTemplate(inject('databaseTemplate'));
    // Built here, not by the worker, so that the effects table exists before any handler runs.
    t = await startTestApp({ database, workers: false });
    await sql`CREATE TABLE crash_effects (event_id uuid NOT NULL, seq bigint NOT NULL)`.execute(t.app.database.db);
    const userId = crypto.randomUUID();
    for (let batch = 0; batch < EVENTS / PER_TRANSACTION; batch++) {
      const aggregateId = crypto.randomUUID();
      await t.app.transact((tx) =>
        appendEvents(
          tx,
          { userId, correlationId: null },
          new Date(),
          Array.from({ length: PER_TRANSACTION }, (_, i) => ({
            type: i === 0 ? ('task.created' as const) : ('task.updated' as const),
            aggregateType: 'task' as const,
            aggregateId,
            aggregateVersion: i + 1,
            userId,
            data: { n: i + 1 },
          })),
        ),
      );
    }
  });

  afterAll(async () => {
    for (const child of children) await child.stop();
    await t?.close();
    await database?.drop();
  });

  const worker = () => {
    const child = spawnScript('test/fixtures/effect-worker.ts', cliEnv(database, { LOG_LEVEL: 'warn' }));
    children.add(child);
    return child;
  };
  const ready = (child: CliProcess) => child.waitForLog((l) => l.msg === 'effect worker ready', START_MS, 'the worker to start');

  async function effects(): Promise<{ rows: number; distinct_events: number }> {
    const db = t?.app.database.db;
    if (!db) throw new Error('no app');
    const result = await sql<{ rows: number; distinct_events: number }>`
      SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct_events FROM crash_effects`.execute(db);
    return result.rows[0] ?? { rows: 0, distinct_events: 0 };
  }

  /** Events past the crash-effects checkpoint (0 once the consumer has caught up). */
  async function unhandled(): Promise<number> {
    const db = t?.app.database.db;
    if (!db) throw new Error('no app');
    const result = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM events e
      WHERE (e.tx_id, e.seq) > (SELECT tx_id, seq FROM consumer_checkpoints WHERE consumer = 'crash-effects' AND partition = 0)`.execute(
      db,
    );
    return result.rows[0]?.n ?? Number.NaN;
  }

  /** True while a worker holds the runner's transaction-scoped claim on a partition, i.e. is inside a batch. */
  async function batchOpen(): Promise<boolean> {
    const db = t?.app.database.db;
    if (!db) throw new Error('no app');
    // 7346002: the runner's advisory-lock namespace (LOCK_NAMESPACE in consumer-runner.ts).
    const result = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND classid = 7346002 AND granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(db);
    return (result.rows[0]?.n ?? 0) > 0;
  }

  it.runIf(testDatabaseKind() === 'postgres')(
    'after SIGKILL mid-batch and a restart as two workers, every event has exactly one effect row',
    { timeout: 120_000 },
    async () => {
      const db = t?.app.database.db;
      if (!db) throw new Error('no app');
      const total = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(db)).rows[0]?.n;
      expect(total).toBeGreaterThanOrEqual(EVENTS);

      const a = worker();
      await ready(a);
      // A batch has committed and the next one is open (its claim lock is held): kill now.
      await until(async () => (await effects()).rows > 0 && (await batchOpen()), {
        timeoutMs: 30_000,
        intervalMs: 5,
        what: 'a committed batch and an open one',
      });
      a.child.kill('SIGKILL');
      expect((await a.exited).signal).toBe('SIGKILL');
      // One snapshot for both numbers, so that nothing can commit in between.
      const atCrash = (
        await sql<{ rows: number; covered: number }>`
          SELECT (SELECT count(*)::int FROM crash_effects) AS rows,
                 (SELECT count(*)::int FROM events e
                  WHERE (e.tx_id, e.seq) <= (SELECT tx_id, seq FROM consumer_checkpoints
                                             WHERE consumer = 'crash-effects' AND partition = 0)) AS covered`.execute(db)
      ).rows[0];
      expect(atCrash?.rows, 'worker A finished everything before the kill').toBeLessThan(total ?? 0);
      expect(atCrash?.rows).toBeGreaterThan(0);
      // What survived the kill is exactly what the checkpoint covers: the killed batch left nothing.
      expect(atCrash?.rows).toBe(atCrash?.covered);

      const b = worker();
      const c = worker();
      await Promise.all([ready(b), ready(c)]);
      await until(async () => (await unhandled()) === 0, { timeoutMs: 60_000, intervalMs: 50, what: 'the consumer to catch up' });

      const after = await effects();
      const events = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(db)).rows[0]?.n;
      expect(after).toEqual({ rows: events, distinct_events: events });
      const missing = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM events e WHERE NOT EXISTS (SELECT 1 FROM crash_effects c WHERE c.event_id = e.event_id)`.execute(
        db,
      );
      expect(missing.rows[0]?.n).toBe(0);
    },
  );
});
