// The recurrence generator: on task.completed of a recurring instance, creates the next
// instance (title, description, priority, tags, rule) in the runner's transaction, with
// task.created + task.recurrence.generated on the new task. Exactly once: the runner commits
// effect and checkpoint together, and the unique keys (series_id, occurrence_at) and
// (previous_task_id) turn a replay or a second completion into a no-op. When UNTIL/COUNT is
// reached the series is marked finished (task.recurrence.finished on the completed task).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import { TASK_COLUMNS, type TaskRow } from '../db/tables.js';
import type { Tx } from '../db/transaction.js';
import { appendEvents } from '../events/append-events.js';
import type { Consumer } from '../events/consumer.js';
import type { Actor, StoredEvent } from '../events/types.js';
import { taskTagNamesSql } from '../tags/service.js';
import { toView } from '../tasks/service.js';
import { localKeyOfDue, nextInstance, occurrenceAt, occurrenceFloor, type Series } from './engine.js';

export const RECURRENCE_CONSUMER = 'recurrence-generator';

export function recurrenceConsumer(clock: Clock): Consumer {
  return {
    name: RECURRENCE_CONSUMER,
    handles: ['task.completed'],
    // Partitioned by the completed task: its own events stay in order, and the series row
    // lock serialises two instances of one series. The runner runs partitions concurrently
    // (CONSUMER_CONCURRENCY); a partition with nothing of its own still moves its checkpoint.
    partitions: 4,
    handle: (event, tx) => generateNextInstance(tx, event, clock.now()),
  };
}

/**
 * The completed instance with its tags and owner, and its series locked (FOR UPDATE OF
 * task_series: a concurrent stop-recurrence waits, or we see it as stopped). No row: deleted,
 * or not part of a series.
 */
async function readCompletedInstance(tx: Tx, id: string) {
  return tx.q
    .selectFrom('tasks')
    .innerJoin('lists', 'lists.id', 'tasks.list_id')
    .innerJoin('task_series', 'task_series.id', 'tasks.series_id')
    .select(TASK_COLUMNS.map((c) => `tasks.${c}` as const))
    .select(taskTagNamesSql.as('tags'))
    .select(['lists.owner_id', 'task_series.status as series_status'])
    .where('tasks.id', '=', id)
    .forUpdate('task_series')
    .executeTakeFirst();
}

/**
 * The next instance as a copy of the completed one (title, description, priority, zone,
 * rule, list, and its tags with the derived tag columns, so the task_tags trigger has
 * nothing to rewrite) in ONE statement. ON CONFLICT DO NOTHING: an instance that exists for
 * (series_id, occurrence_at) or for previous_task_id means this completion was handled; then
 * no row comes back and no tag is copied.
 */
function insertNextInstanceSql(
  previousId: string,
  next: { id: string; due_date: string | null; due_at: string | null; occurrence_at: Date; now: Date },
) {
  const returned = sql.join(TASK_COLUMNS.map((c) => sql.ref(c)));
  return sql<TaskRow>`
    WITH next AS (
      INSERT INTO tasks (id, list_id, created_by, title, description, due_date, due_at, time_zone, priority,
                         recurrence, series_id, occurrence_at, previous_task_id, tag_names, tag_keys,
                         created_at, updated_at, version)
      SELECT ${next.id}::uuid, list_id, created_by, title, description, ${next.due_date}::date,
             ${next.due_at}::timestamptz, time_zone, priority, recurrence, series_id, ${next.occurrence_at}::timestamptz,
             id, tag_names, tag_keys, ${next.now}::timestamptz, ${next.now}::timestamptz,
             2 -- task.created (1) and task.recurrence.generated (2)
      FROM tasks WHERE id = ${previousId}::uuid
      ON CONFLICT DO NOTHING
      RETURNING ${returned}
    ), tagged AS (
      INSERT INTO task_tags (task_id, tag_id)
      SELECT next.id, task_tags.tag_id FROM next JOIN task_tags ON task_tags.task_id = ${previousId}::uuid
    )
    SELECT * FROM next`;
}

export async function generateNextInstance(tx: Tx, event: StoredEvent, now: Date): Promise<void> {
  const task = await readCompletedInstance(tx, event.aggregateId);
  // Deleted, reopened since, not recurring, or its series ended: nothing to generate.
  if (task?.status !== 'completed' || !task.recurrence || !task.series_id || task.series_status !== 'active') return;
  const current = localKeyOfDue({ ...task, due_at: task.due_at?.toISOString() ?? null });
  if (!current) return;
  const actor: Actor = { userId: event.actorId ?? event.userId, correlationId: event.correlationId };
  // Only after_completion with COUNT needs the number of instances so far (schedule mode counts from DTSTART).
  const instancesSoFar =
    task.recurrence.mode === 'after_completion' && /COUNT=/.test(task.recurrence.rule)
      ? await tx.q
          .selectFrom('tasks')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('series_id', '=', task.series_id)
          .executeTakeFirstOrThrow()
      : { n: '0' };
  // The completion time is the event's: a replay computes the same next occurrence.
  const completedAt = new Date(String(event.data.completed_at ?? event.occurredAt.toISOString()));
  const series: Series = {
    rule: task.recurrence.rule,
    dtstart: task.recurrence.dtstart,
    timeZone: task.time_zone,
    exdates: task.recurrence.exdates,
  };
  const { next, skipped } = nextInstance({
    series,
    // A moved instance still stands for its occurrence: its successor comes after both.
    floor: occurrenceFloor(series, task.occurrence_at),
    mode: task.recurrence.mode,
    catchUp: task.recurrence.catch_up,
    current,
    completedAt,
    now: completedAt,
    instancesSoFar: Number(instancesSoFar.n),
  });

  if (!next) {
    await tx.q.updateTable('task_series').set({ status: 'finished', ended_at: now }).where('id', '=', task.series_id).execute();
    const bumped = await tx.q
      .updateTable('tasks')
      .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
      .where('id', '=', task.id)
      .returning('version')
      .executeTakeFirstOrThrow();
    await appendEvents(tx, actor, now, [
      {
        type: 'task.recurrence.finished',
        aggregateType: 'task',
        aggregateId: task.id,
        aggregateVersion: bumped.version,
        userId: task.owner_id,
        data: { series_id: task.series_id },
        causationId: event.eventId,
      },
    ]);
    return;
  }

  const id = randomUUID();
  const inserted = await insertNextInstanceSql(task.id, { id, ...next, occurrence_at: occurrenceAt(next), now }).execute(tx.q);
  const created = inserted.rows[0];
  if (!created) return; // Already generated: a replay, or a second completion of the same instance.
  const { id: _id, created_at: _c, updated_at: _u, version: _v, ...state } = toView({ ...created, tags: task.tags });
  await appendEvents(tx, actor, now, [
    {
      type: 'task.created',
      aggregateType: 'task',
      aggregateId: id,
      aggregateVersion: 1,
      userId: task.owner_id,
      data: state,
      causationId: event.eventId,
    },
    {
      type: 'task.recurrence.generated',
      aggregateType: 'task',
      aggregateId: id,
      aggregateVersion: 2,
      userId: task.owner_id,
      data: {
        series_id: task.series_id,
        occurrence_at: next.due_at ?? next.due_date,
        previous_task_id: task.id,
        task_id: id,
        skipped: skipped.map((o) => o.due_at ?? o.due_date),
      },
      causationId: event.eventId,
    },
  ]);
}
