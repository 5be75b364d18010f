// POST /api/v1/tasks end to end (bearer auth, Zod, the createTask transaction with tag
// resolution and event append, serialization) on a real listening server, against the least
// SQL a creation needs: INSERT task + INSERT event in one transaction, on the same database.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createApp } from '../src/app.js';
import type { DB } from '../src/db/tables.js';
import { benchConfig, serverVersion } from './lib/bench-app.js';
import type { Benchmark, BenchmarkContext } from './lib/benchmark.js';
import { measureLoop } from './lib/concurrent-loop.js';
import { availableKinds, type BenchDatabase, withBenchDatabase } from './lib/databases.js';
import { measureCreateTaskHttp } from './lib/http-load.js';
import type { Comparison } from './lib/report.js';

// A realistic create: a tag (found after the first request) and a local due time that the
// service converts to an instant in the given zone. autocannon fills `[<id>]` per request.
const TASK = {
  title: 'Benchmark task [<id>]',
  description: 'Created by bench/http-create-task.ts',
  due_at: '2030-06-01T09:00',
  time_zone: 'Europe/Berlin',
  priority: 'medium',
  tags: ['bench'],
} as const;
const DUE_INSTANT = new Date('2030-06-01T07:00:00Z'); // TASK.due_at in Europe/Berlin (CEST)

interface BenchUser {
  id: string;
  token: string;
  inboxListId: string;
}

export const httpCreateTask: Benchmark = {
  name: 'http-create-task',
  description: 'POST /api/v1/tasks over HTTP vs. raw SQL INSERT task + INSERT event in one transaction',
  baselineLabel: 'raw SQL',
  async run(context) {
    const comparisons: Comparison[] = [];
    for (const kind of availableKinds(context.adminDatabaseUrl)) {
      context.progress(`${kind}: starting`);
      comparisons.push(await withBenchDatabase(kind, context.adminDatabaseUrl, (database) => compareOn(database, context)));
    }
    return comparisons;
  },
};

async function compareOn(database: BenchDatabase, context: BenchmarkContext): Promise<Comparison> {
  const { durationS, warmupS, concurrency } = context.settings;
  const app = await createApp(benchConfig(database));
  try {
    const address = await app.listen();
    const user = await signUp(address);
    await createTaskOnce(address, user); // fails loudly on a rejected body, and creates the tag
    const version = await serverVersion(app);

    context.progress(`${database.kind}: raw SQL baseline, ${durationS} s`);
    let counter = 0;
    const baseline = await measureLoop({
      name: 'raw SQL insert task+event',
      concurrency,
      durationS,
      warmupS,
      signal: context.signal,
      operation: () => insertTaskAndEvent(app.database.db, user, ++counter),
    });

    context.progress(`${database.kind}: HTTP POST /api/v1/tasks, ${durationS} s`);
    const http = await measureCreateTaskHttp(
      address,
      user.token,
      TASK,
      { connections: concurrency, durationS, warmupS },
      context.signal,
    );
    return { database: { kind: database.kind, version }, baseline, measured: [http] };
  } finally {
    await app.close();
  }
}

/** The baseline: the two rows every task creation must write, nothing else. */
async function insertTaskAndEvent(db: Kysely<DB>, user: BenchUser, counter: number): Promise<void> {
  const id = randomUUID();
  const now = new Date();
  const title = `Benchmark task ${counter}`;
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('tasks')
      .values({
        id,
        list_id: user.inboxListId,
        created_by: user.id,
        title,
        description: TASK.description,
        due_at: DUE_INSTANT,
        time_zone: TASK.time_zone,
        priority: 2,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await tx
      .insertInto('events')
      .values({
        event_id: randomUUID(),
        type: 'task.created',
        user_id: user.id,
        actor_id: user.id,
        aggregate_type: 'task',
        aggregate_id: id,
        aggregate_version: 1,
        correlation_id: randomUUID(),
        occurred_at: now,
        // The same payload shape the service stores for task.created.
        data: JSON.stringify({
          list_id: user.inboxListId,
          title,
          description: TASK.description,
          due_date: null,
          due_at: DUE_INSTANT.toISOString(),
          time_zone: TASK.time_zone,
          priority: TASK.priority,
          tags: TASK.tags,
          status: 'open',
          completed_at: null,
        }),
      })
      .execute();
  });
}

async function signUp(address: string): Promise<BenchUser> {
  const session = await postJson(address, '/api/v1/auth/signup', 201, {
    email: 'bench@example.com',
    password: 'benchmark password',
    time_zone: 'UTC',
  });
  const { access_token, user } = session as { access_token: string; user: { id: string; inbox_list_id: string } };
  return { id: user.id, token: access_token, inboxListId: user.inbox_list_id };
}

async function createTaskOnce(address: string, user: BenchUser): Promise<void> {
  await postJson(address, '/api/v1/tasks', 201, { ...TASK, title: 'Benchmark task 0' }, user.token);
}

async function postJson(address: string, route: string, expectStatus: number, body: unknown, token?: string): Promise<unknown> {
  const response = await fetch(`${address}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== expectStatus)
    throw new Error(`POST ${route}: expected ${expectStatus}, got ${response.status}: ${text}`);
  return JSON.parse(text);
}
