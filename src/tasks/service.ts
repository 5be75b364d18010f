// Task use cases. Each mutation is one transaction: scope check through the list access
// rules, state write, one event (DESIGN §1). Reads go through the same scoping, so another
// user's task is indistinguishable from a missing one. Undo (restore, revert) lives here too.
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../clock.js';
import { type DB, TASK_COLUMNS, type TaskRow } from '../db/tables.js';
import type { Transact, Tx } from '../db/transaction.js';
import { Conflict, NotFound, RevertConflict, ValidationFailed, VersionConflict } from '../errors.js';
import { appendEvents } from '../events/append-events.js';
import type { Actor, EventType, FieldChanges } from '../events/types.js';
import { claimIdempotencyKey, type IdempotencyRequest, saveIdempotentResponse } from '../idempotency/store.js';
import { accessibleListIds, visibleEvents, writableListIds } from '../lists/access.js';
import { applyQuickAdd } from '../quick-add/service.js';
import { localKeyOfDue, occurrenceAt } from '../recurrence/engine.js';
import { resolveRecurrence } from '../recurrence/settings.js';
import { defaultReminderOffset, scheduleReminders } from '../reminders/service.js';
import { findTasks } from '../search/service.js';
import { derivedTagColumns, resolveTags, setTaskTags, taskTagNamesSql } from '../tags/service.js';
import { findViewSpec } from '../views/service.js';
import {
  diffTask,
  normalizeTagNames,
  priorityToRank,
  rankToPriority,
  resolveDue,
  revertChanges,
  type TaskState,
} from './domain.js';
import { taskStateOf } from './fold.js';
import type { CreateTaskInput, ListTasksQuery, TaskListItem, TaskView, UpdateTaskInput } from './schema.js';

// The fold is part of this capability's public surface (history, time travel, tests).
export { evolveTask, foldTaskEvents, type TaskEventLike } from './fold.js';

type Q = Kysely<DB> | Tx['q'];
export type TaskRowWithTags = TaskRow & { tags: string[] };

export interface TaskServiceDeps {
  db: Kysely<DB>;
  transact: Transact;
  clock: Clock;
}

export interface MutationOptions {
  /** The version the client last saw (If-Match); a different current version → 412. */
  expectedVersion?: number | undefined;
  /** The event this change answers (e.g. the change a revert undoes), stamped as causation_id. */
  causationId?: string | undefined;
}

export type TaskService = ReturnType<typeof createTaskService>;

export function createTaskService({ db, transact, clock }: TaskServiceDeps) {
  async function createTask(
    actor: Actor,
    request: CreateTaskInput,
    idempotency?: IdempotencyRequest,
  ): Promise<{ task: TaskView; replayed: boolean }> {
    return transact(async (tx) => {
      if (idempotency) {
        const stored = await claimIdempotencyKey(tx, actor.userId, idempotency);
        if (stored) return { task: stored.body as TaskView, replayed: true };
      }
      const now = clock.now();
      // The list check and the user's zone (for a local due_at) in one round trip.
      const list = await writableList(tx.q, actor.userId, request.list_id);
      // Quick-add text fills what the request leaves out (src/quick-add).
      const input = applyQuickAdd(request, { now, timeZone: list.user_time_zone });
      const due = resolveDue({ due_date: null, due_at: null, time_zone: null }, input, list.user_time_zone);
      const recurrence = resolveRecurrence(null, input.recurrence, due);
      const tags = await resolveTags(tx, actor, now, normalizeTagNames(input.tags ?? []));
      const seriesId = recurrence ? await startSeries(tx, randomUUID(), list.owner_id, now) : null;
      const inserted = await tx.q
        .insertInto('tasks')
        .values({
          id: randomUUID(),
          list_id: list.id,
          created_by: actor.userId,
          title: input.title,
          description: input.description ?? '',
          ...due,
          priority: priorityToRank(input.priority ?? 'none'),
          recurrence: recurrence && JSON.stringify(recurrence),
          series_id: seriesId,
          occurrence_at: recurrence ? occurrenceAt(due) : null,
          // What the task_tags trigger derives, written now so that it has nothing to rewrite.
          ...derivedTagColumns(tags),
          created_at: now,
          updated_at: now,
        })
        .returning(TASK_COLUMNS)
        .executeTakeFirstOrThrow();
      // A new task has no tags to remove, and resolveTags already returns canonical, sorted
      // names: no delete, no re-read.
      if (tags.length > 0) {
        await tx.q
          .insertInto('task_tags')
          .values(tags.map((t) => ({ task_id: inserted.id, tag_id: t.id })))
          .execute();
      }
      const row = { ...inserted, tags: tags.map((t) => t.name) };
      await appendTaskEvent(tx, actor, now, list.owner_id, row, 'task.created', toState(row));
      // Reminders in the same transaction: the given ones (or quick-add's), else the user's
      // default on a task with a due moment. A bad one throws 422 and rolls the task back.
      const wanted =
        input.reminders ?? (list.default_reminder && (row.due_at || row.due_date) ? [{ offset: list.default_reminder }] : []);
      if (wanted.length > 0) await scheduleReminders(tx, actor, now, row.id, wanted, reminderField(request));
      const task = toView(row);
      if (idempotency) await saveIdempotentResponse(tx, actor.userId, idempotency.key, { status: 201, body: task });
      return { task, replayed: false };
    });
  }

  async function getTask(actor: Actor, id: string): Promise<TaskView> {
    return toView(await loadTask(db, actor.userId, id));
  }

  /** One page of the tasks the actor may see: filters, search, saved view, sort (src/search). */
  async function listTasks(actor: Actor, query: ListTasksQuery): Promise<{ items: TaskListItem[]; next_cursor: string | null }> {
    const view = query.view_id ? await findViewSpec(db, actor.userId, query.view_id) : null;
    const page = await findTasks(db, actor, query, clock.now(), view);
    return {
      items: page.items.map(({ row, search }) => (search ? { ...toView(row), search } : toView(row))),
      next_cursor: page.nextCursor,
    };
  }

  async function updateTask(actor: Actor, id: string, patch: UpdateTaskInput, options: MutationOptions = {}) {
    return mutate(actor, id, options, 'task.updated', async (tx, row, now) => {
      const before = toState(row);
      const due = resolveDue(before, patch, await userTimeZone(tx.q, actor.userId));
      const after: TaskState = {
        ...before,
        ...due,
        title: patch.title ?? before.title,
        description: patch.description ?? before.description,
        priority: patch.priority ?? before.priority,
      };
      after.recurrence = resolveRecurrence(before.recurrence, patch.recurrence, due);
      if (after.recurrence && !before.series_id) after.series_id = randomUUID();
      return writeChanges(tx, actor, now, id, before, after, patch.tags);
    });
  }

  /**
   * Undoes one task.updated (`changes` = its data): sets the fields back to `before` if they
   * still hold `after`, as a new task.updated caused by `revertedEventId`.
   */
  /** Adds and removes tags by name (case-insensitive): one task.updated when the set changes. */
  async function changeTaskTags(
    actor: Actor,
    id: string,
    change: { add: readonly string[]; remove: readonly string[] },
    options: MutationOptions = {},
  ): Promise<TaskView> {
    return mutate(actor, id, options, 'task.updated', async (tx, row, now) => {
      const before = toState(row);
      const removed = new Set(change.remove.map((name) => name.toLowerCase()));
      const names = [...before.tags.filter((name) => !removed.has(name.toLowerCase())), ...change.add];
      return writeChanges(tx, actor, now, id, before, before, names);
    });
  }

  async function revertUpdate(actor: Actor, id: string, changes: FieldChanges, revertedEventId: string): Promise<TaskView> {
    try {
      return await mutate(actor, id, { causationId: revertedEventId }, 'task.updated', async (tx, row, now) => {
        const before = toState(row);
        const after = revertChanges(before, changes);
        return writeChanges(tx, actor, now, id, before, after, 'tags' in changes.before ? after.tags : undefined);
      });
    } catch (err) {
      if (err instanceof NotFound) throw new RevertConflict(`Task ${id} has been deleted since; restore it first`);
      throw err;
    }
  }

  /**
   * Writes the editable fields of `after` (and, when given, the tag names) and returns the
   * task.updated payload; null when nothing changed. Shared by update and revert.
   */
  async function writeChanges(
    tx: Tx,
    actor: Actor,
    now: Date,
    id: string,
    before: TaskState,
    after: TaskState,
    tagNames: readonly string[] | undefined,
  ): Promise<FieldChanges | null> {
    const tags = tagNames ? await resolveTags(tx, actor, now, normalizeTagNames(tagNames)) : null;
    const target: TaskState = { ...after, tags: tags ? tags.map((t) => t.name) : before.tags };
    const changes = diffTask(before, target);
    if (!changes) return null;
    await tx.q
      .updateTable('tasks')
      .set({
        title: target.title,
        description: target.description,
        due_date: target.due_date,
        due_at: target.due_at,
        time_zone: target.time_zone,
        priority: priorityToRank(target.priority),
        ...('recurrence' in changes.after ? recurrenceColumns(target) : {}),
      })
      .where('id', '=', id)
      .execute();
    // A rule set (again) starts or re-activates the series, owned by the list's owner.
    if (target.recurrence && target.series_id && 'recurrence' in changes.after) {
      const owner = await tx.q
        .selectFrom('tasks')
        .innerJoin('lists', 'lists.id', 'tasks.list_id')
        .select('lists.owner_id')
        .where('tasks.id', '=', id)
        .executeTakeFirstOrThrow();
      await startSeries(tx, target.series_id, owner.owner_id, now);
    }
    if (tags)
      await setTaskTags(
        tx,
        id,
        tags.map((t) => t.id),
      );
    return changes;
  }

  async function completeTask(actor: Actor, id: string, options: MutationOptions = {}) {
    return mutate(actor, id, options, 'task.completed', async (tx, row, now) => {
      if (row.status === 'completed') return null;
      await tx.q.updateTable('tasks').set({ status: 'completed', completed_at: now }).where('id', '=', id).execute();
      return { completed_at: now.toISOString() };
    });
  }

  async function reopenTask(actor: Actor, id: string, options: MutationOptions = {}) {
    return mutate(actor, id, options, 'task.reopened', async (tx, row) => {
      if (row.status === 'open') return null;
      await tx.q.updateTable('tasks').set({ status: 'open', completed_at: null }).where('id', '=', id).execute();
      return { previous_completed_at: row.completed_at?.toISOString() ?? null };
    });
  }

  async function deleteTask(actor: Actor, id: string, options: MutationOptions = {}): Promise<void> {
    await transact(async (tx) => {
      const { row, ownerId } = await lockTask(tx, actor.userId, id, options);
      const now = clock.now();
      // The event keeps the full last state, so history stays readable and restore works.
      await appendTaskEvent(tx, actor, now, ownerId, { ...row, version: row.version + 1 }, 'task.deleted', toState(row));
      await tx.q.deleteFrom('tasks').where('id', '=', id).execute();
    });
  }

  /**
   * Undoes a delete: re-creates the task from its last task.deleted snapshot (same id,
   * fields, tags, original created_at), in its list if still writable, else the Inbox.
   * Version continues from the deleted one; appends task.restored caused by the deletion.
   */
  async function restoreTask(actor: Actor, id: string): Promise<TaskView> {
    return transact(async (tx) => {
      const taskEvents = () =>
        visibleEvents(tx.q, actor.userId).where('events.aggregate_type', '=', 'task').where('events.aggregate_id', '=', id);
      const first = await taskEvents()
        .select(['events.occurred_at', 'events.actor_id'])
        .orderBy('events.seq')
        .limit(1)
        .executeTakeFirst();
      if (!first) throw new NotFound(`Task ${id} not found`);
      const deleted = await taskEvents()
        .select(['events.event_id', 'events.aggregate_version', 'events.data'])
        .where('events.type', '=', 'task.deleted')
        .orderBy('events.seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      const exists = await tx.q.selectFrom('tasks').select('id').where('id', '=', id).executeTakeFirst();
      if (exists || !deleted) throw new Conflict(`Task ${id} exists; only a deleted task can be restored`);

      const now = clock.now();
      const snapshot = taskStateOf(deleted.data as Record<string, unknown>);
      const list =
        (await tx.q
          .selectFrom('lists')
          .select(['id', 'owner_id'])
          .where('id', '=', snapshot.list_id)
          .where('id', 'in', writableListIds(tx.q, actor.userId))
          .executeTakeFirst()) ?? (await writableList(tx.q, actor.userId, undefined));
      const tags = await resolveTags(tx, actor, now, normalizeTagNames(snapshot.tags));
      // ON CONFLICT: a concurrent restore of the same task wins; this one is then a conflict.
      const inserted = await tx.q
        .insertInto('tasks')
        .values({
          id,
          list_id: list.id,
          created_by: first.actor_id ?? actor.userId,
          title: snapshot.title,
          description: snapshot.description,
          due_date: snapshot.due_date,
          due_at: snapshot.due_at,
          time_zone: snapshot.time_zone,
          priority: priorityToRank(snapshot.priority),
          status: snapshot.status,
          completed_at: snapshot.completed_at,
          recurrence: snapshot.recurrence && JSON.stringify(snapshot.recurrence),
          series_id: snapshot.series_id,
          created_at: first.occurred_at,
          updated_at: now,
          version: deleted.aggregate_version + 1,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) throw new Conflict(`Task ${id} exists; only a deleted task can be restored`);
      await setTaskTags(
        tx,
        id,
        tags.map((t) => t.id),
      );
      const row = await loadTask(tx.q, actor.userId, id);
      await appendTaskEvent(
        tx,
        actor,
        now,
        list.owner_id,
        row,
        'task.restored',
        { ...toState(row), created_at: row.created_at.toISOString() },
        deleted.event_id,
      );
      return toView(row);
    });
  }

  /**
   * The shared shape of every single-task mutation: lock the row (scoped, If-Match checked),
   * let `change` write state and say what changed, then bump the version and append the
   * event. A change that changes nothing returns the task untouched and appends nothing.
   */
  async function mutate(
    actor: Actor,
    id: string,
    options: MutationOptions,
    type: EventType,
    change: (tx: Tx, row: TaskRowWithTags, now: Date) => Promise<object | null>,
  ): Promise<TaskView> {
    return transact(async (tx) => {
      const { row, ownerId } = await lockTask(tx, actor.userId, id, options);
      const now = clock.now();
      const data = await change(tx, row, now);
      if (!data) return toView(row);
      await tx.q
        .updateTable('tasks')
        .set((eb) => ({ version: eb('version', '+', 1), updated_at: now }))
        .where('id', '=', id)
        .execute();
      const updated = await loadTask(tx.q, actor.userId, id);
      await appendTaskEvent(tx, actor, now, ownerId, updated, type, data, options.causationId);
      return toView(updated);
    });
  }

  return {
    mutate,
    createTask,
    getTask,
    listTasks,
    updateTask,
    changeTaskTags,
    completeTask,
    reopenTask,
    deleteTask,
    restoreTask,
    revertUpdate,
  };
}

function selectTasks(q: Q, userId: string) {
  return q
    .selectFrom('tasks')
    .select(TASK_COLUMNS)
    .select(taskTagNamesSql.as('tags'))
    .where('tasks.list_id', 'in', accessibleListIds(q, userId));
}

async function loadTask(q: Q, userId: string, id: string): Promise<TaskRowWithTags> {
  const row = await selectTasks(q, userId).where('tasks.id', '=', id).executeTakeFirst();
  if (!row) throw new NotFound(`Task ${id} not found`);
  return row;
}

/** Locks the task for this transaction (FOR UPDATE) if the user may change it. */
async function lockTask(tx: Tx, userId: string, id: string, options: MutationOptions) {
  const locked = await tx.q
    .selectFrom('tasks')
    .innerJoin('lists', 'lists.id', 'tasks.list_id')
    .select(['tasks.id', 'lists.owner_id'])
    .where('tasks.id', '=', id)
    .where('tasks.list_id', 'in', writableListIds(tx.q, userId))
    .forUpdate('tasks')
    .executeTakeFirst();
  if (!locked) throw new NotFound(`Task ${id} not found`);
  const row = await loadTask(tx.q, userId, id);
  if (options.expectedVersion !== undefined && options.expectedVersion !== row.version) {
    throw new VersionConflict(`Task ${id} is at version ${row.version}, not ${options.expectedVersion}`, {
      extra: { current_version: row.version },
    });
  }
  return { row, ownerId: locked.owner_id };
}

/** The list a new task goes to (the given one if writable, else the Inbox), with the actor's time zone. */
async function writableList(q: Q, userId: string, listId: string | undefined) {
  let query = q
    .selectFrom('lists')
    .select(['lists.id', 'lists.owner_id'])
    .select((eb) => eb.selectFrom('users').select('users.time_zone').where('users.id', '=', userId).as('user_time_zone'))
    .select(defaultReminderOffset(q, userId).as('default_reminder'))
    .where('lists.id', 'in', writableListIds(q, userId));
  query = listId
    ? query.where('lists.id', '=', listId)
    : query.where('lists.is_inbox', '=', true).where('lists.owner_id', '=', userId);
  const list = await query.executeTakeFirst();
  if (!list) {
    throw new ValidationFailed(`List ${listId} not found`, { errors: [{ field: 'list_id', message: 'no such list' }] });
  }
  return { ...list, user_time_zone: list.user_time_zone ?? 'UTC' };
}

async function userTimeZone(q: Q, userId: string): Promise<string> {
  const row = await q.selectFrom('users').select('time_zone').where('id', '=', userId).executeTakeFirst();
  return row?.time_zone ?? 'UTC';
}

async function appendTaskEvent(
  tx: Tx,
  actor: Actor,
  now: Date,
  ownerId: string,
  row: { id: string; version: number },
  type: EventType,
  data: object,
  causationId?: string,
) {
  await appendEvents(tx, actor, now, [
    {
      type,
      aggregateType: 'task',
      aggregateId: row.id,
      aggregateVersion: row.version,
      userId: ownerId,
      data: { ...data },
      causationId: causationId ?? null,
    },
  ]);
}

function toState(row: TaskRowWithTags): TaskState {
  return {
    list_id: row.list_id,
    title: row.title,
    description: row.description,
    due_date: row.due_date,
    due_at: row.due_at?.toISOString() ?? null,
    time_zone: row.time_zone,
    priority: rankToPriority(row.priority),
    tags: row.tags,
    status: row.status,
    completed_at: row.completed_at?.toISOString() ?? null,
    recurrence: row.recurrence
      ? {
          rule: row.recurrence.rule,
          mode: row.recurrence.mode,
          dtstart: row.recurrence.dtstart,
          exdates: row.recurrence.exdates,
          catch_up: row.recurrence.catch_up,
        }
      : null,
    series_id: row.series_id,
  };
}

/**
 * The columns a recurrence change writes. The occurrence key is set when the series starts,
 * and again when the series is re-anchored on this instance (a rule set or edited: DTSTART =
 * its due), unless another instance of the series already holds that key. Moving the due
 * alone keeps the key: the instance still stands for its occurrence (ADR 0006).
 */
function recurrenceColumns(target: TaskState) {
  if (!target.recurrence) return { recurrence: null, series_id: target.series_id };
  const key = occurrenceAt(target);
  const anchoredHere = target.recurrence.dtstart === localKeyOfDue(target);
  return {
    recurrence: JSON.stringify(target.recurrence),
    series_id: target.series_id,
    occurrence_at: anchoredHere
      ? sql<Date>`CASE WHEN EXISTS (SELECT 1 FROM tasks other WHERE other.series_id = ${target.series_id}::uuid
          AND other.occurrence_at = ${key}::timestamptz AND other.id <> tasks.id)
          THEN coalesce(tasks.occurrence_at, ${key}::timestamptz) ELSE ${key}::timestamptz END`
      : sql<Date>`coalesce(tasks.occurrence_at, ${key}::timestamptz)`,
  };
}

/** The field a 422 about the i-th reminder of a new task names: in `reminders`, or the quick-add text. */
function reminderField(request: CreateTaskInput) {
  return (i: number) => (request.reminders ? `reminders.${i}.` : 'quick.');
}

/** Creates the series row, or re-activates it when a rule is set on a stopped/finished series. */
async function startSeries(tx: Tx, id: string, ownerId: string, now: Date): Promise<string> {
  await tx.q
    .insertInto('task_series')
    .values({ id, owner_id: ownerId, created_at: now })
    .onConflict((oc) => oc.column('id').doUpdateSet({ status: 'active', ended_at: null }))
    .execute();
  return id;
}

export function toView(row: TaskRowWithTags): TaskView {
  return {
    id: row.id,
    ...toState(row),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: row.version,
  };
}
