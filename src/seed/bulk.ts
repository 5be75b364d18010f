// Bulk seeding for benchmarks and demos at scale (`taskflow seed --tasks 100000 --users 100`):
// tasks, their tags and their events are written set-based, one INSERT … SELECT FROM
// generate_series per table and chunk, instead of one service call per task (minutes at
// 100k). The rows are what the services would have written: every task has its
// task.created event (and task.completed, for completed ones) with the same payload shape,
// so history, activity and the fold invariant hold for seeded tasks too. Deterministic per
// run salt: the values derive from hashint8(i), not from random().
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { App } from '../app.js';
import { EmailTaken } from '../errors.js';
import { localDate } from '../search/due-ranges.js';
import { resolveTags, taskTagNamesSql } from '../tags/service.js';

export interface BulkSeedOptions {
  /** Tasks per transaction: bounded memory and a consumer horizon that keeps moving. */
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
}

const VERBS = [
  'Call',
  'Email',
  'Review',
  'Write',
  'Send',
  'Plan',
  'Book',
  'Buy',
  'Fix',
  'Clean',
  'Prepare',
  'Update',
  'Schedule',
  'Check',
  'Pay',
  'Order',
  'Draft',
  'Renew',
  'Cancel',
  'Organize',
];
const NOUNS = [
  'invoice',
  'quarterly report',
  'dentist',
  'flights',
  'groceries',
  'pull request',
  'team offsite',
  'plants',
  'slides',
  'leaking tap',
  'roadmap',
  'subscription',
  'passport',
  'insurance',
  'budget',
  'newsletter',
  'contract',
  'landlord',
  'car service',
  'tax return',
  'birthday gift',
  'hotel',
  'meeting notes',
  'backlog',
  'website',
  'garden',
  'bank statement',
  'doctor appointment',
  'conference talk',
  'design review',
  'release notes',
  'laptop',
  'kitchen',
  'parents',
  'electricity bill',
  'gym membership',
  'vacation',
  'client proposal',
  'database migration',
  'blog post',
];
const CONTEXTS = [
  '',
  '',
  '',
  'for Monday',
  'before Friday',
  'for the client',
  'with Anna',
  'at home',
  'for next week',
  'again',
  'for the team',
  'urgently',
];
const SENTENCES = [
  'Remember to attach the receipt.',
  'Ask Anna about the numbers first.',
  'The invoice for last month is still missing.',
  'Check the shared drive for the latest version.',
  'Running late on this one, needs a reminder.',
  'Follow up by phone if there is no answer.',
  'Quarterly report numbers are in the spreadsheet.',
  'Compare at least three offers.',
];
const TAGS = [
  'work',
  'home',
  'errands',
  'finance',
  'health',
  'reading',
  'family',
  'travel',
  'someday',
  'waiting',
  'calls',
  'computer',
];
const TIME_ZONE = 'Europe/Berlin';

/** Signs up `name`@example.com if needed; returns its user id and Inbox. */
export async function ensureSeedUser(app: App, name: string, password: string) {
  const email = `${name}@example.com`;
  let session: Awaited<ReturnType<App['auth']['logIn']>>;
  try {
    session = await app.auth.signUp({ email, password, time_zone: TIME_ZONE, display_name: name }, 'seed');
  } catch (err) {
    if (!(err instanceof EmailTaken)) throw err;
    session = await app.auth.logIn(email, password);
  }
  const inbox = await app.database.db
    .selectFrom('lists')
    .select('id')
    .where('owner_id', '=', session.user.id)
    .where('is_inbox', '=', true)
    .executeTakeFirstOrThrow();
  return { email, userId: session.user.id, listId: inbox.id };
}

/**
 * Adds `count` tasks to the user's Inbox: created over the past three years, 45% all-day
 * and 30% timed due dates from 30 days ago to 60 days ahead, every priority, 0-2 of 12
 * tags, most past-due tasks completed. Returns the number of completed tasks.
 */
export async function seedTasksInBulk(
  app: App,
  user: { userId: string; listId: string },
  count: number,
  options: BulkSeedOptions = {},
): Promise<{ tasks: number; completed: number }> {
  const chunkSize = options.chunkSize ?? 20_000;
  const now = new Date();
  const today = localDate(now, TIME_ZONE);
  const salt = randomUUID();
  // Seconds between two tasks' creation: `count` tasks spread over three years.
  const spacing = Math.max(1, Math.floor((3 * 365 * 86_400) / Math.max(count, 1)));
  const actor = { userId: user.userId, correlationId: 'seed' };
  const tags = await app.transact((tx) => resolveTags(tx, actor, now, TAGS));
  const tagNames = TAGS.map((name) => tags.find((t) => t.name.toLowerCase() === name)?.name ?? name);
  let completed = 0;

  for (let from = 1; from <= count; from += chunkSize) {
    const to = Math.min(count, from + chunkSize - 1);
    // A v4-shaped uuid derived from the run's salt and i, so later statements find the chunk's rows.
    const idOf = sql`overlay(overlay(md5(${salt} || ':' || g.i) placing '4' from 13) placing '8' from 17)::uuid`;
    const chunkIds = sql`SELECT ${idOf} FROM generate_series(${from}::int, ${to}::int) AS g(i)`;
    completed += await app.transact(async (tx) => {
      await sql`
        INSERT INTO tasks (id, list_id, created_by, title, description, due_date, due_at, time_zone, priority,
                           status, completed_at, created_at, updated_at, version, tag_names, tag_keys)
        SELECT ${idOf}, ${user.listId}::uuid, ${user.userId}::uuid, d.title, d.description, d.due_date, d.due_at,
               d.time_zone, d.priority, d.status, d.completed_at, d.created_at,
               coalesce(d.completed_at, d.created_at), CASE WHEN d.status = 'completed' THEN 2 ELSE 1 END,
               (SELECT coalesce(string_agg(n, ' ' ORDER BY lower(n) COLLATE "C", n COLLATE "C"), '') FROM unnest(d.tags) n),
               (SELECT coalesce(array_agg(lower(n) ORDER BY lower(n) COLLATE "C", n COLLATE "C"), '{}') FROM unnest(d.tags) n)
        FROM generate_series(${from}::int, ${to}::int) AS g(i)
        CROSS JOIN LATERAL (SELECT array_agg(abs(hashint8(g.i::bigint * 16 + k)::bigint) ORDER BY k) AS h
                            FROM generate_series(1, 9) AS k) AS r
        CROSS JOIN LATERAL (SELECT
          (${sql.val(VERBS)}::text[])[1 + r.h[1] % ${VERBS.length}] || ' '
            || (${sql.val(NOUNS)}::text[])[1 + r.h[2] % ${NOUNS.length}]
            || coalesce(' ' || nullif((${sql.val(CONTEXTS)}::text[])[1 + r.h[3] % ${CONTEXTS.length}], ''), '') AS title,
          CASE WHEN r.h[4] % 10 < 3 THEN (${sql.val(SENTENCES)}::text[])[1 + r.h[4] / 10 % ${SENTENCES.length}] ELSE '' END
            AS description,
          r.h[5] % 100 AS due_kind,
          (r.h[6] % 91)::int - 30 AS due_offset,
          (${now}::timestamptz - make_interval(secs => (${count} - g.i) * ${spacing} + r.h[7] % 60)) AS created_at,
          r.h[8] AS tag_pick,
          r.h[9] AS status_pick) AS base
        CROSS JOIN LATERAL (SELECT
          base.title, base.description, base.created_at,
          CASE WHEN base.due_kind < 45 THEN ${today}::date + base.due_offset END AS due_date,
          CASE WHEN base.due_kind BETWEEN 45 AND 74 THEN
            ((${today}::date + base.due_offset) + make_time(8 + (base.tag_pick % 10)::int, 0, 0)) AT TIME ZONE ${TIME_ZONE}
          END AS due_at,
          CASE WHEN base.due_kind BETWEEN 45 AND 74 THEN ${TIME_ZONE} END AS time_zone,
          (base.status_pick / 7 % 5)::smallint AS priority,
          CASE WHEN base.due_kind < 75 AND base.due_offset < 0 AND base.status_pick % 10 < 8
                 OR base.due_kind >= 75 AND base.status_pick % 10 < 5
               THEN 'completed' ELSE 'open' END AS status,
          CASE base.tag_pick % 10
            WHEN 0 THEN '{}'::text[] WHEN 1 THEN '{}'::text[] WHEN 2 THEN '{}'::text[]
            WHEN 8 THEN ARRAY[(${sql.val(tagNames)}::text[])[1 + base.tag_pick / 10 % ${TAGS.length}],
                              (${sql.val(tagNames)}::text[])[1 + (base.tag_pick / 10 + 1 + base.tag_pick / 1000 % ${TAGS.length - 1}) % ${TAGS.length}]]
            ELSE ARRAY[(${sql.val(tagNames)}::text[])[1 + base.tag_pick / 10 % ${TAGS.length}]]
          END AS tags) AS d0
        CROSS JOIN LATERAL (SELECT d0.*, CASE WHEN d0.status = 'completed'
          THEN least(${now}::timestamptz,
                     greatest(d0.created_at, coalesce(d0.due_at, d0.due_date::timestamptz, d0.created_at)) + interval '3 hours')
          END AS completed_at) AS d`.execute(tx.q);
      await sql`
        INSERT INTO task_tags (task_id, tag_id)
        SELECT tasks.id, tags.id
        FROM tasks JOIN tags ON tags.user_id = ${user.userId}::uuid AND tags.name = ANY(string_to_array(tasks.tag_names, ' '))
        WHERE tasks.id IN (${chunkIds}) AND tasks.tag_names <> ''`.execute(tx.q);
      await sql`
        INSERT INTO events (event_id, type, user_id, actor_id, aggregate_type, aggregate_id, aggregate_version,
                            correlation_id, occurred_at, data)
        SELECT gen_random_uuid(), 'task.created', ${user.userId}::uuid, ${user.userId}::uuid, 'task', tasks.id, 1,
               'seed', tasks.created_at, jsonb_build_object(
                 'list_id', tasks.list_id, 'title', tasks.title, 'description', tasks.description,
                 'due_date', tasks.due_date, 'due_at', ${isoMs(sql`tasks.due_at`)}, 'time_zone', tasks.time_zone,
                 'priority', (ARRAY['none', 'low', 'medium', 'high', 'urgent'])[tasks.priority + 1],
                 'tags', ${taskTagNamesSql}, 'status', 'open', 'completed_at', NULL)
        FROM tasks WHERE tasks.id IN (${chunkIds})
        ORDER BY tasks.created_at`.execute(tx.q);
      const done = await sql`
        INSERT INTO events (event_id, type, user_id, actor_id, aggregate_type, aggregate_id, aggregate_version,
                            correlation_id, occurred_at, data)
        SELECT gen_random_uuid(), 'task.completed', ${user.userId}::uuid, ${user.userId}::uuid, 'task', tasks.id, 2,
               'seed', tasks.completed_at, jsonb_build_object('completed_at', ${isoMs(sql`tasks.completed_at`)})
        FROM tasks WHERE tasks.id IN (${chunkIds}) AND tasks.status = 'completed'
        ORDER BY tasks.completed_at`.execute(tx.q);
      return Number(done.numAffectedRows ?? 0);
    });
    options.onProgress?.(to, count);
  }
  return { tasks: count, completed };
}

/** An instant as the services write it into events: toISOString(), millisecond precision. */
const isoMs = (column: ReturnType<typeof sql>) => sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
