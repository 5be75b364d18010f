// The recurrence generator: on task.completed of a recurring instance, creates the next
// instance (title, description, priority, tags, rule) in the runner's transaction, with
// task.created + task.recurrence.generated on the new task. Exactly once: the runner commits
// effect and checkpoint together, and the unique keys (series_id, occurrence_at) and
// (previous_task_id) turn a replay or a second completion into a no-op. When UNTIL/COUNT is
// reached the series is marked finished (task.recurrence.finished on the completed task).
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import { TASK_COLUMNS } from '../db/tables.js';
import type { Tx } from '../db/transaction.js';
import { appendEvents } from '../events/append-events.js';
import type { Consumer } from '../events/consumer.js';
import type { Actor, StoredEvent } from '../events/types.js';
import { taskTagNamesSql } from '../tags/service.js';
import { type TaskRowWithTags, toView } from '../tasks/service.js';
import { localKeyOfDue, nextInstance, occurrenceAt, occurrenceFloor, type Series } from './engine.js';

export const RECURRENCE_CONSUMER = 'recurrence-generator';

export function recurrenceConsumer(clock: Clock): Consumer {
  return {
    name: RECURRENCE_CONSUMER,
    handles: ['task.completed'],
    // One partition: retention's horizon is the lowest checkpoint, and a partition that sees
    // no events never advances its own (src/events/retention.ts).
    partitions: 1,
    handle: (event, tx) => generateNextInstance(tx, event, clock.now()),
  };
}

async function readTask(tx: Tx, id: string): Promise<(TaskRowWithTags & { owner_id: string }) | undefined> {
  return tx.q
    .selectFrom('tasks')
    .innerJoin('lists', 'lists.id', 'tasks.list_id')
    .select(TASK_COLUMNS.map((c) => `tasks.${c}` as const))
    .select(taskTagNamesSql.as('tags'))
    .select('lists.owner_id')
    .where('tasks.id', '=', id)
    .executeTakeFirst();
}

export async function generateNextInstance(tx: Tx, event: StoredEvent, now: Date): Promise<void> {
  const task = await readTask(tx, event.aggregateId);
  // Deleted, reopened since, or not recurring: nothing to generate (a later completion will).
  if (task?.status !== 'completed' || !task.recurrence || !task.series_id) return;
  const seriesRow = await tx.q
    .selectFrom('task_series')
    .select('status')
    .where('id', '=', task.series_id)
    .forUpdate()
    .executeTakeFirst();
  if (seriesRow?.status !== 'active') return;
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
  const inserted = await tx.q
    .insertInto('tasks')
    .values({
      id,
      list_id: task.list_id,
      created_by: task.created_by,
      title: task.title,
      description: task.description,
      due_date: next.due_date,
      due_at: next.due_at,
      time_zone: task.time_zone,
      priority: task.priority,
      recurrence: JSON.stringify(task.recurrence),
      series_id: task.series_id,
      occurrence_at: occurrenceAt(next),
      previous_task_id: task.id,
      created_at: now,
      updated_at: now,
      // task.created (1) and task.recurrence.generated (2).
      version: 2,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!inserted) return; // Already generated: a replay, or a second completion of the same instance.
  await tx.q
    .insertInto('task_tags')
    .columns(['task_id', 'tag_id'])
    .expression((eb) =>
      eb
        .selectFrom('task_tags')
        .select([sql<string>`${id}::uuid`.as('task_id'), 'tag_id'])
        .where('task_id', '=', task.id),
    )
    .execute();
  const created = await readTask(tx, id);
  if (!created) return;
  const { id: _id, created_at: _c, updated_at: _u, version: _v, ...state } = toView(created);
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
