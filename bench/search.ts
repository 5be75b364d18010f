// GET /api/v1/tasks at scale: one user with 100k tasks among 1M (the seed command's bulk
// path), six query shapes — plain list, overdue, tag filter, one-word search, phrase search,
// a filter expression — each measured three ways on the same database in the same run:
//
// - HTTP GET: the whole path (auth, Zod, the search module's query, highlights, JSON, socket);
// - findTasks: the search module in-process, without HTTP;
// - raw SQL (the baseline): the query a DBA would hand-write for this one user's Inbox,
//   returning the same columns, tags and highlights.
//
// Sizes: BENCH_SEARCH_USER_TASKS (100000), BENCH_SEARCH_TOTAL_TASKS (1000000; PostgreSQL),
// BENCH_SEARCH_PGLITE_TOTAL_TASKS (default: the user's tasks only — a million rows in WASM
// take long to seed and are not what the embedded database is for). Clients:
// BENCH_SEARCH_CONCURRENCY (1).
import { type Kysely, type RawBuilder, sql } from 'kysely';
import { createApp } from '../src/app.js';
import type { DB } from '../src/db/tables.js';
import { localDate, startOfDay } from '../src/search/due-ranges.js';
import { findTasks } from '../src/search/service.js';
import { DEMO_PASSWORD, seed } from '../src/seed/seed.js';
import { taskTagNamesSql } from '../src/tags/service.js';
import { listTasksQuery } from '../src/tasks/schema.js';
import { benchConfig, serverVersion } from './lib/bench-app.js';
import type { Benchmark, BenchmarkContext } from './lib/benchmark.js';
import { measureLoop } from './lib/concurrent-loop.js';
import { availableKinds, type BenchDatabase, withBenchDatabase } from './lib/databases.js';
import { measureHttp } from './lib/http-load.js';
import type { Comparison } from './lib/report.js';

const USER_TASKS = positiveInt('BENCH_SEARCH_USER_TASKS', 100_000);
const TOTAL_TASKS = positiveInt('BENCH_SEARCH_TOTAL_TASKS', 1_000_000);
const PGLITE_TOTAL_TASKS = positiveInt('BENCH_SEARCH_PGLITE_TOTAL_TASKS', USER_TASKS);
const OTHER_USERS = 20;
// One client by default: the target is a latency (p95 of one request), not throughput under
// queueing on a 2-core machine. BENCH_SEARCH_CONCURRENCY=10 measures the loaded case.
const CONCURRENCY = positiveInt('BENCH_SEARCH_CONCURRENCY', 1);
const TARGET_P95_MS = 20;
const TIME_ZONE = 'Europe/Berlin'; // the seed's

interface Shape {
  name: string;
  /** The GET /tasks query string. */
  query: string;
  /** The hand-written equivalent for one list (the bench user's Inbox). */
  raw: (p: RawParams) => RawBuilder<unknown>;
}

interface RawParams {
  listId: string;
  now: Date;
  today: string;
  todayStart: Date;
  tomorrowStart: Date;
}

const columns = sql`tasks.id, tasks.list_id, tasks.created_by, tasks.title, tasks.description, tasks.due_date,
  tasks.due_at, tasks.time_zone, tasks.priority, tasks.status, tasks.completed_at, tasks.created_at,
  tasks.updated_at, tasks.version, tasks.recurrence, tasks.series_id, tasks.occurrence_at, tasks.previous_task_id`;
const headline = (query: RawBuilder<unknown>) => sql`
  ts_headline('english', tasks.title, ${query}, 'HighlightAll=true') AS title_highlight,
  ts_headline('english', left(tasks.description, 5000), ${query}, 'MaxFragments=2, MaxWords=18, MinWords=6') AS snippet`;
const hasTag = (name: string) => sql`EXISTS (SELECT 1 FROM task_tags JOIN tags ON tags.id = task_tags.tag_id
  WHERE task_tags.task_id = tasks.id AND lower(tags.name) = ${name})`;
/** Best match first: rank only the matches, highlight only the page. */
const rawSearch = (listId: string, query: RawBuilder<unknown>) => sql`
  SELECT ${columns}, ${taskTagNamesSql} AS tags, page.rank, ${headline(query)}
  FROM (SELECT tasks.id, ts_rank(tasks.search_vector, ${query}) AS rank FROM tasks
        WHERE tasks.list_id = ${listId} AND tasks.status = 'open' AND tasks.search_vector @@ ${query}
        ORDER BY rank DESC, tasks.id DESC LIMIT 51) AS page
  JOIN tasks ON tasks.id = page.id ORDER BY page.rank DESC, page.id DESC`;

const SHAPES: Shape[] = [
  {
    name: 'plain list (newest first)',
    query: 'limit=50',
    raw: ({ listId }) => sql`SELECT ${columns}, ${taskTagNamesSql} AS tags FROM tasks
      WHERE tasks.list_id = ${listId} AND tasks.status = 'open'
      ORDER BY tasks.created_at DESC, tasks.id DESC LIMIT 51`,
  },
  {
    name: 'overdue, by due date',
    query: 'due=overdue&sort=due&limit=50',
    raw: ({ listId, now, today }) => sql`SELECT ${columns}, ${taskTagNamesSql} AS tags FROM tasks
      WHERE tasks.list_id = ${listId} AND tasks.status = 'open'
        AND (tasks.due_at < ${now} OR tasks.due_date < ${today}::date)
      ORDER BY tasks.due_key, tasks.id LIMIT 51`,
  },
  {
    name: 'tag filter (#work)',
    query: 'tag=work&limit=50',
    raw: ({ listId }) => sql`SELECT ${columns}, ${taskTagNamesSql} AS tags FROM tasks
      WHERE tasks.list_id = ${listId} AND tasks.status = 'open' AND ${hasTag('work')}
      ORDER BY tasks.created_at DESC, tasks.id DESC LIMIT 51`,
  },
  {
    name: 'q one word (invoice)',
    query: 'q=invoice&limit=50',
    raw: ({ listId }) => rawSearch(listId, sql`websearch_to_tsquery('english', 'invoice')`),
  },
  {
    name: 'q phrase ("quarterly report")',
    query: `q=${encodeURIComponent('"quarterly report"')}&limit=50`,
    raw: ({ listId }) => rawSearch(listId, sql`websearch_to_tsquery('english', '"quarterly report"')`),
  },
  {
    name: 'expression (today | overdue) & #work & !p4',
    query: `filter=${encodeURIComponent('(today | overdue) & #work & !p4')}&limit=50`,
    raw: ({ listId, now, today, todayStart, tomorrowStart }) => sql`SELECT ${columns}, ${taskTagNamesSql} AS tags
      FROM tasks
      WHERE tasks.list_id = ${listId} AND tasks.status = 'open'
        AND (tasks.due_at >= ${todayStart} AND tasks.due_at < ${tomorrowStart} OR tasks.due_date = ${today}::date
             OR tasks.due_at < ${now} OR tasks.due_date < ${today}::date)
        AND ${hasTag('work')} AND tasks.priority >= 2
      ORDER BY tasks.created_at DESC, tasks.id DESC LIMIT 51`,
  },
];

export const searchBenchmark: Benchmark = {
  name: 'search',
  description: `GET /api/v1/tasks (filters, search, sort) for a user with ${USER_TASKS} tasks: HTTP and in-process vs hand-written SQL`,
  baselineLabel: 'raw SQL',
  async run(context) {
    const comparisons: Comparison[] = [];
    for (const kind of availableKinds(context.adminDatabaseUrl)) {
      context.progress(`${kind}: starting`);
      comparisons.push(...(await withBenchDatabase(kind, context.adminDatabaseUrl, (database) => compareOn(database, context))));
    }
    return comparisons;
  },
};

async function compareOn(database: BenchDatabase, context: BenchmarkContext): Promise<Comparison[]> {
  const { durationS, warmupS } = context.settings;
  const concurrency = CONCURRENCY;
  const app = await createApp(benchConfig(database));
  try {
    const total = Math.max(USER_TASKS, database.kind === 'pglite' ? PGLITE_TOTAL_TASKS : TOTAL_TASKS);
    const perOther = Math.ceil((total - USER_TASKS) / OTHER_USERS);
    const started = performance.now();
    await seed(app, 'bench', {
      tasks: USER_TASKS,
      users: perOther > 0 ? OTHER_USERS : 0,
      tasksPerUser: perOther,
      onProgress: (message) => context.progress(`${database.kind}: seed ${message}`),
    });
    const seedSeconds = (performance.now() - started) / 1000;
    context.progress(`${database.kind}: seeded in ${seedSeconds.toFixed(0)} s; VACUUM ANALYZE`);
    await sql`VACUUM ANALYZE`.execute(app.database.db);
    const seeded = await counts(app.database.db);

    const address = await app.listen();
    const session = await app.auth.logIn('bench@example.com', DEMO_PASSWORD);
    const actor = { userId: session.user.id, correlationId: null };
    const listId = session.user.inbox_list_id;
    const now = new Date();
    const today = localDate(now, TIME_ZONE);
    const params: RawParams = {
      listId,
      now,
      today,
      todayStart: startOfDay(today, TIME_ZONE),
      tomorrowStart: new Date(startOfDay(today, TIME_ZONE).getTime() + 86_400_000),
    };
    const version = await serverVersion(app);
    const comparisons: Comparison[] = [];
    for (const shape of SHAPES) {
      const label = `${database.kind}: ${shape.name}`;
      const query = listTasksQuery.parse(Object.fromEntries(new URLSearchParams(shape.query)));
      // Sanity: the three ways agree on how many rows the first page has.
      const viaService = await findTasks(app.database.db, actor, query, new Date());
      const viaRaw = await shape.raw(params).execute(app.database.db);
      context.progress(`${label}: ${viaService.items.length} rows (raw SQL ${viaRaw.rows.length}); raw SQL ${durationS} s`);
      const baseline = await measureLoop({
        name: 'raw SQL',
        concurrency,
        durationS,
        warmupS,
        signal: context.signal,
        operation: () => shape.raw(params).execute(app.database.db),
      });
      context.progress(`${label}: findTasks ${durationS} s`);
      const service = await measureLoop({
        name: 'findTasks (in-process)',
        concurrency,
        durationS,
        warmupS,
        signal: context.signal,
        operation: () => findTasks(app.database.db, actor, query, new Date()),
      });
      context.progress(`${label}: HTTP ${durationS} s`);
      const http = await measureHttp(
        `HTTP GET /tasks?${shape.query.length > 40 ? `${shape.query.slice(0, 39)}…` : shape.query}`,
        {
          target: {
            url: `${address}/api/v1/tasks?${shape.query}`,
            method: 'GET',
            headers: { authorization: `Bearer ${session.access_token}` },
            connections: concurrency,
          },
          durationS,
          warmupS,
        },
        200,
        context.signal,
      );
      comparisons.push({
        database: { kind: database.kind, version },
        group: shape.name,
        baseline,
        measured: [http, service],
        notes: [
          `${viaService.items.length} rows per page; ${seeded.user} tasks for the user, ${seeded.total} in total ` +
            `(seeded in ${seedSeconds.toFixed(0)} s); target p95 < ${TARGET_P95_MS} ms on PostgreSQL`,
        ],
      });
    }
    return comparisons;
  } finally {
    await app.close();
  }
}

async function counts(db: Kysely<DB>): Promise<{ user: number; total: number }> {
  const { rows } = await sql<{ user: string; total: string }>`
    SELECT (SELECT count(*) FROM tasks JOIN users ON users.id = tasks.created_by WHERE users.email = 'bench@example.com') AS user,
           (SELECT count(*) FROM tasks) AS total`.execute(db);
  return { user: Number(rows[0]?.user ?? 0), total: Number(rows[0]?.total ?? 0) };
}

function positiveInt(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${variable} must be a positive integer, got "${raw}"`);
  return value;
}
