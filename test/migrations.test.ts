// The SQL migrations are the source of truth for the schema; src/db/tables.ts mirrors them
// by hand. These tests keep the two in step and prove every migration rolls back cleanly.
import { sql } from 'kysely';
import { afterAll, expect, inject, it } from 'vitest';
import { connectDatabase, type Database } from '../src/db/connect.js';
import { appliedVersions, loadMigrations, migrateDown, migrateUp } from '../src/db/migrate.js';
import type { DB } from '../src/db/tables.js';
import { createLogger } from '../src/observability/logger.js';
import { call, describeWithDatabase, signUp, startTestApp } from './support/app.js';
import { copyTemplate, type DatabaseCopy } from './support/databases.js';

// Every table and column of the DB interface in src/db/tables.ts. `satisfies` makes tsc
// fail when a table or a column is added there (or here) without the other.
type Columns<T> = { readonly [C in keyof T]: true };
const DECLARED = {
  schema_migrations: { version: true, name: true, applied_at: true },
  app_settings: { key: true, value: true, created_at: true },
  users: {
    id: true,
    email: true,
    password_hash: true,
    display_name: true,
    time_zone: true,
    role: true,
    created_at: true,
    updated_at: true,
  },
  refresh_tokens: {
    id: true,
    user_id: true,
    family_id: true,
    token_hash: true,
    expires_at: true,
    created_at: true,
    rotated_at: true,
    revoked_at: true,
  },
  api_tokens: {
    id: true,
    user_id: true,
    name: true,
    token_hash: true,
    prefix: true,
    created_at: true,
    expires_at: true,
    last_used_at: true,
    revoked_at: true,
  },
  lists: { id: true, owner_id: true, name: true, is_inbox: true, created_at: true, updated_at: true },
  list_members: { list_id: true, user_id: true, role: true, created_at: true },
  tasks: {
    id: true,
    list_id: true,
    created_by: true,
    title: true,
    description: true,
    due_date: true,
    due_at: true,
    time_zone: true,
    priority: true,
    status: true,
    completed_at: true,
    created_at: true,
    updated_at: true,
    version: true,
    tag_names: true,
    tag_keys: true,
    due_key: true,
    search_vector: true,
    recurrence: true,
    series_id: true,
    occurrence_at: true,
    previous_task_id: true,
  },
  task_series: { id: true, owner_id: true, status: true, created_at: true, ended_at: true },
  tags: { id: true, user_id: true, name: true, color: true, created_at: true, version: true },
  task_tags: { task_id: true, tag_id: true },
  tag_open_counts: { list_id: true, tag_key: true, shard: true, open_tasks: true },
  views: {
    id: true,
    user_id: true,
    name: true,
    filter: true,
    sort: true,
    sort_order: true,
    version: true,
    created_at: true,
    updated_at: true,
  },
  idempotency_keys: {
    user_id: true,
    key: true,
    request_hash: true,
    response_status: true,
    response_body: true,
    created_at: true,
  },
  events: {
    seq: true,
    event_id: true,
    type: true,
    user_id: true,
    actor_id: true,
    aggregate_type: true,
    aggregate_id: true,
    aggregate_version: true,
    correlation_id: true,
    causation_id: true,
    occurred_at: true,
    data: true,
    schema_version: true,
    tx_id: true,
  },
  consumer_checkpoints: { consumer: true, partition: true, tx_id: true, seq: true, updated_at: true },
  dead_letters: {
    id: true,
    consumer: true,
    event_seq: true,
    event_id: true,
    event_type: true,
    error: true,
    attempts: true,
    first_failed_at: true,
    last_failed_at: true,
    status: true,
    resolved_at: true,
  },
  processed_events: { consumer: true, event_id: true, processed_at: true },
  events_archive: {
    seq: true,
    event_id: true,
    type: true,
    user_id: true,
    actor_id: true,
    aggregate_type: true,
    aggregate_id: true,
    aggregate_version: true,
    correlation_id: true,
    causation_id: true,
    occurred_at: true,
    data: true,
    schema_version: true,
    tx_id: true,
    archived_at: true,
  },
  reminders: {
    id: true,
    task_id: true,
    user_id: true,
    remind_at: true,
    offset_seconds: true,
    offset_text: true,
    channel: true,
    status: true,
    cancel_reason: true,
    attempts: true,
    sent_at: true,
    created_at: true,
    updated_at: true,
    version: true,
  },
  reminder_settings: {
    user_id: true,
    default_offset_seconds: true,
    default_offset_text: true,
    webhook_url: true,
    webhook_secret: true,
    updated_at: true,
  },
  notifications: {
    id: true,
    user_id: true,
    event_id: true,
    reminder_id: true,
    task_id: true,
    title: true,
    remind_at: true,
    created_at: true,
    read_at: true,
  },
  push_subscriptions: { id: true, user_id: true, endpoint: true, p256dh: true, auth: true, created_at: true },
} as const satisfies { readonly [T in keyof DB]: Columns<DB[T]> };

const declaredSchema = (): Record<string, string[]> =>
  Object.fromEntries(Object.entries(DECLARED).map(([table, columns]) => [table, Object.keys(columns).sort()]));

async function actualSchema(database: Database): Promise<Record<string, string[]>> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    SELECT c.table_name, c.column_name
    FROM information_schema.columns c
    JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
    ORDER BY c.table_name, c.column_name`.execute(database.db);
  const schema: Record<string, string[]> = {};
  for (const r of rows) schema[r.table_name] = [...(schema[r.table_name] ?? []), r.column_name];
  return schema;
}

describeWithDatabase('migrations', () => {
  const copies: DatabaseCopy[] = [];
  const open: Database[] = [];
  afterAll(async () => {
    for (const database of open) await database.close();
    for (const copy of copies) await copy.drop();
  });

  async function freshDatabase(): Promise<{ copy: DatabaseCopy; database: Database }> {
    const copy = await copyTemplate(inject('databaseTemplate'));
    copies.push(copy);
    const database = await connectDatabase({
      databaseUrl: copy.env.DATABASE_URL,
      dataDir: copy.env.DATA_DIR ?? '',
      poolSize: 1,
      log: createLogger('silent'),
    });
    open.push(database);
    return { copy, database };
  }

  it('the migrated schema has exactly the tables and columns that src/db/tables.ts declares', async () => {
    const { database } = await freshDatabase();
    expect(await actualSchema(database)).toEqual(declaredSchema());
  });

  it('migrating an up-to-date database applies nothing', async () => {
    const { database } = await freshDatabase();
    expect(await migrateUp(database.db)).toEqual([]);
    expect(await appliedVersions(database.db)).toEqual(loadMigrations().map((m) => m.version));
  });

  it('rolling back to 0 removes every table, and migrating up again restores a working schema', async () => {
    const { copy, database } = await freshDatabase();
    const versions = loadMigrations().map((m) => m.version);

    expect(await migrateDown(database.db, 0)).toEqual([...versions].reverse());
    const tables = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`.execute(database.db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(['schema_migrations']);
    const routines = await sql<{ routine_name: string }>`
      SELECT routine_name FROM information_schema.routines WHERE routine_schema = 'public'`.execute(database.db);
    expect(routines.rows).toEqual([]);
    expect(await appliedVersions(database.db)).toEqual([]);

    expect(await migrateUp(database.db)).toEqual(versions);
    expect(await appliedVersions(database.db)).toEqual(versions);
    expect(await actualSchema(database)).toEqual(declaredSchema());
    open.splice(open.indexOf(database), 1);
    await database.close();

    const t = await startTestApp({ database: copy });
    try {
      const user = await signUp(t.app);
      const created = await call(t.app, 'POST', '/api/v1/tasks', {
        token: user.token,
        body: { title: 'Still works', tags: ['x'] },
      });
      expect(created.status).toBe(201);
      const events = await t.app.database.db.selectFrom('events').select('type').orderBy('seq').execute();
      expect(events.map((e) => e.type)).toEqual(['user.registered', 'list.created', 'tag.created', 'task.created']);
      await expect(sql`UPDATE events SET type = 'x'`.execute(t.app.database.db)).rejects.toThrow(/immutable/);
    } finally {
      await t.close();
    }
  });
});
