// Recurrence use cases over the task service's single-task mutation (lock, If-Match,
// version, one event): skip an occurrence, stop a series, set/clear the rule; plus the two
// reads, the preview of a rule and the series view. Generation lives in consumer.ts.
import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.js';
import { TASK_COLUMNS } from '../db/tables.js';
import { Conflict, NotFound } from '../errors.js';
import type { Actor } from '../events/types.js';
import { accessibleListIds, visibleEvents } from '../lists/access.js';
import { taskTagNamesSql } from '../tags/service.js';
import type { TaskView } from '../tasks/schema.js';
import type { MutationOptions, TaskService } from '../tasks/service.js';
import { toView } from '../tasks/service.js';
import { describeSeries } from './describe.js';

export { describeSeries } from './describe.js';

import { checkSeries, laterKey, localKeyOfDue, type Occurrence, occurrenceAt, occurrenceFloor, occurrences } from './engine.js';
import { formatRule } from './rule.js';
import type { RecurrenceInput } from './schema.js';

export interface RecurrenceServiceDeps {
  db: Kysely<DB>;
  tasks: TaskService;
}

export interface SeriesView {
  id: string;
  status: 'active' | 'finished' | 'stopped';
  ended_at: string | null;
  /** The open instance, if any. */
  current: TaskView | null;
  /** Every instance still present, oldest occurrence first (completed ones and the current). */
  instances: TaskView[];
  /** Occurrences skipped with POST /tasks/{id}/skip or passed over by a late completion. */
  skipped: Array<{ task_id: string; from: string | null; to: string | null; at: string }>;
}

export type RecurrenceService = ReturnType<typeof createRecurrenceService>;

export function createRecurrenceService({ db, tasks }: RecurrenceServiceDeps) {
  /** Moves an open instance to its next occurrence without completing it. */
  async function skipOccurrence(actor: Actor, id: string, options: MutationOptions = {}): Promise<TaskView> {
    return tasks.mutate(actor, id, options, 'task.occurrence.skipped', async (tx, row) => {
      if (!row.recurrence || !row.series_id) throw new Conflict(`Task ${id} does not repeat`);
      if (row.status !== 'open') throw new Conflict('Only an open instance can be skipped; this one is completed');
      const due = { due_date: row.due_date, due_at: row.due_at?.toISOString() ?? null, time_zone: row.time_zone };
      const series = {
        rule: row.recurrence.rule,
        dtstart: row.recurrence.dtstart,
        timeZone: row.time_zone,
        exdates: row.recurrence.exdates,
      };
      // A moved instance skips its own occurrence too, not just the date it was moved to.
      const current = laterKey(localKeyOfDue(due) as string, occurrenceFloor(series, row.occurrence_at));
      const [next] = occurrences(series, current, 1);
      if (!next) throw new Conflict('The series has no further occurrence (UNTIL/COUNT reached); stop it or complete the task');
      await tx.q
        .updateTable('tasks')
        .set({ due_date: next.due_date, due_at: next.due_at, occurrence_at: occurrenceAt(next) })
        .where('id', '=', id)
        .execute();
      return {
        series_id: row.series_id,
        from: due.due_at ?? due.due_date,
        to: next.due_at ?? next.due_date,
        // Shaped like task.updated so that anything following due changes (reminders, the fold) follows a skip.
        before: { due_date: due.due_date, due_at: due.due_at },
        after: { due_date: next.due_date, due_at: next.due_at },
      };
    });
  }

  /** Ends the series: the task stays (as a one-off), no instance follows it. */
  async function stopRecurrence(actor: Actor, id: string, options: MutationOptions = {}): Promise<TaskView> {
    return tasks.mutate(actor, id, options, 'task.updated', async (tx, row, now) => {
      if (!row.recurrence || !row.series_id) throw new Conflict(`Task ${id} does not repeat`);
      await tx.q.updateTable('tasks').set({ recurrence: null }).where('id', '=', id).execute();
      await tx.q
        .updateTable('task_series')
        .set({ status: 'stopped', ended_at: now })
        .where('id', '=', row.series_id)
        .where('status', '=', 'active')
        .execute();
      return { before: { recurrence: row.recurrence }, after: { recurrence: null } };
    });
  }

  const setRecurrence = (actor: Actor, id: string, input: RecurrenceInput | null, options: MutationOptions = {}) =>
    tasks.updateTask(actor, id, { recurrence: input }, options);

  async function seriesView(actor: Actor, seriesId: string): Promise<SeriesView> {
    const series = await db
      .selectFrom('task_series')
      .select(['id', 'status', 'ended_at'])
      .where('id', '=', seriesId)
      .executeTakeFirst();
    const rows = await db
      .selectFrom('tasks')
      .select(TASK_COLUMNS.map((c) => `tasks.${c}` as const))
      .select(taskTagNamesSql.as('tags'))
      .where('tasks.series_id', '=', seriesId)
      .where('tasks.list_id', 'in', accessibleListIds(db, actor.userId))
      .orderBy('tasks.occurrence_at')
      .orderBy('tasks.created_at')
      .execute();
    if (!series || rows.length === 0) throw new NotFound(`Series ${seriesId} not found`);
    const instances = rows.map(toView);
    // One read for both kinds of skip: a skip of the open instance, and the dates a late
    // completion jumped over (recorded on the generated instance).
    const events = await visibleEvents(db, actor.userId)
      .select(['events.type', 'events.aggregate_id', 'events.data', 'events.occurred_at'])
      .where('events.type', 'in', ['task.occurrence.skipped', 'task.recurrence.generated'])
      .where(
        'events.aggregate_id',
        'in',
        instances.map((t) => t.id),
      )
      .orderBy('events.seq')
      .execute();
    const skips = events.filter((e) => e.type === 'task.occurrence.skipped');
    const generated = events.filter((e) => e.type === 'task.recurrence.generated');
    const skipped: SeriesView['skipped'] = [
      ...skips.map((e) => {
        const data = e.data as { from?: string; to?: string };
        return { task_id: e.aggregate_id, from: data.from ?? null, to: data.to ?? null, at: e.occurred_at.toISOString() };
      }),
      ...generated.flatMap((e) =>
        ((e.data as { skipped?: string[] }).skipped ?? []).map((s) => ({
          task_id: e.aggregate_id,
          from: s,
          to: null,
          at: e.occurred_at.toISOString(),
        })),
      ),
    ];
    return {
      id: series.id,
      status: series.status,
      ended_at: series.ended_at?.toISOString() ?? null,
      current: instances.filter((t) => t.status === 'open').at(-1) ?? null,
      instances,
      skipped,
    };
  }

  /** previewRule in the given zone, else the actor's. */
  async function preview(
    actor: Actor,
    query: { rule: string; dtstart: string; tz?: string | undefined; after?: string | undefined; count: number },
  ) {
    const user = await db.selectFrom('users').select('time_zone').where('id', '=', actor.userId).executeTakeFirst();
    return previewRule({ ...query, timeZone: query.tz ?? user?.time_zone ?? 'UTC' });
  }

  return { skipOccurrence, stopRecurrence, setRecurrence, seriesView, preview };
}

/** The next dates of a rule, for the UI while a rule is edited. Pure. */
export function previewRule(input: {
  rule: string;
  dtstart: string;
  timeZone: string;
  after?: string | undefined;
  count: number;
}): {
  rule: string;
  description: string;
  occurrences: Occurrence[];
} {
  const dtstart = input.dtstart.length === 16 ? `${input.dtstart}:00` : input.dtstart;
  const parts = checkSeries({ rule: input.rule, dtstart, timeZone: input.timeZone, exdates: [] });
  const rule = formatRule(parts);
  const after = input.after && input.after.length === 16 ? `${input.after}:00` : (input.after ?? null);
  return {
    rule,
    description: describeSeries({ rule, dtstart }),
    occurrences: occurrences({ rule, dtstart, timeZone: input.timeZone, exdates: [] }, after, input.count),
  };
}
