// Reminder use cases: CRUD, snooze, per-user settings, the notifications inbox and push
// subscriptions. Each mutation is one transaction: task access through lists/access.ts,
// state write, event, NOTIFY so every scheduler re-arms (DESIGN §1, §3). Reminders are
// personal: a user sees the reminders they set, on tasks they can still see.
import { randomBytes, randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import { Temporal } from 'temporal-polyfill';
import type { Clock } from '../clock.js';
import type { DB, NotificationsTable, RemindersTable } from '../db/tables.js';
import type { Transact, Tx } from '../db/transaction.js';
import { NotFound, ValidationFailed } from '../errors.js';
import { appendEvents } from '../events/append-events.js';
import type { Actor, EventType } from '../events/types.js';
import { accessibleListIds, writableListIds } from '../lists/access.js';
import { parseOffset, reminderTime, type SnoozePreset, snoozeUntil } from './durations.js';

export { offsetFromSeconds } from './durations.js';

import { notifyReminders } from './scheduler.js';
import type {
  CreateReminderInput,
  ListRemindersQuery,
  ReminderView,
  UpdateReminderInput,
  UpdateReminderSettingsInput,
} from './schema.js';

type ReminderRow = Selectable<RemindersTable>;

export interface ReminderServiceDeps {
  db: Kysely<DB>;
  transact: Transact;
  clock: Clock;
  /** Called after a commit that changed reminders (the local scheduler re-arms at once). */
  onChanged?: () => void;
}

export type ReminderService = ReturnType<typeof createReminderService>;

const iso = (d: Date | string) => new Date(d).toISOString();

export function toReminderView(r: ReminderRow): ReminderView {
  return {
    id: r.id,
    task_id: r.task_id,
    remind_at: iso(r.remind_at),
    offset: r.offset_text,
    channel: r.channel,
    status: r.status,
    sent_at: r.sent_at ? iso(r.sent_at) : null,
    created_at: iso(r.created_at),
    updated_at: iso(r.updated_at),
    version: r.version,
  };
}

/** A task's due moment (due_key: due_at, or midnight local for an all-day task) and the zone it is in. */
export interface TaskTiming {
  id: string;
  due_key: Date | null;
  /** The task's zone, else its list owner's (as for due_key). */
  zone: string;
}

/** The task's timing, if the actor may see (or, `writable`, change) it; else 404. */
async function taskDue(q: Tx['q'], actor: Actor, taskId: string, writable: boolean): Promise<TaskTiming> {
  const lists = writable ? writableListIds(q, actor.userId) : accessibleListIds(q, actor.userId);
  const task = await taskTiming(q, taskId, lists);
  if (!task) throw new NotFound(`Task ${taskId} not found`);
  return task;
}

/** The timing of a task (in one of `lists` when given). */
export async function taskTiming(
  q: Tx['q'] | Kysely<DB>,
  taskId: string,
  lists?: ReturnType<typeof accessibleListIds>,
): Promise<TaskTiming | undefined> {
  let query = q
    .selectFrom('tasks')
    .innerJoin('lists', 'lists.id', 'tasks.list_id')
    .innerJoin('users', 'users.id', 'lists.owner_id')
    .select(['tasks.id', 'tasks.due_key'])
    .select(sql<string>`COALESCE(tasks.time_zone, users.time_zone)`.as('zone'))
    .where('tasks.id', '=', taskId);
  if (lists) query = query.where('tasks.list_id', 'in', lists);
  const row = await query.executeTakeFirst();
  return row && { id: row.id, due_key: row.due_key ? new Date(row.due_key) : null, zone: row.zone };
}

/** remind_at of a reminder given as an offset before the task's due, or absolutely; 422 names `field`. */
function timing(
  input: { offset?: string | undefined; remind_at?: string | undefined; time_zone?: string | undefined },
  task: TaskTiming,
  field = '',
) {
  if (input.remind_at !== undefined) {
    return { remind_at: absoluteTime(input.remind_at, input.time_zone ?? task.zone), offset_seconds: null, offset_text: null };
  }
  const offset = input.offset ?? 'at_due';
  if (!task.due_key) {
    throw new ValidationFailed('A relative reminder needs a task with a due date', {
      errors: [{ field: `${field}offset`, message: 'the task has no due date; give remind_at instead' }],
    });
  }
  return { remind_at: reminderTime(task.due_key, task.zone, offset), offset_seconds: parseOffset(offset), offset_text: offset };
}

/** An ISO date-time with an offset is an instant; without one, a wall time in `timeZone`. */
function absoluteTime(text: string, timeZone: string): Date {
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) return new Date(text);
  const local = Temporal.PlainDateTime.from(text).toZonedDateTime(timeZone, { disambiguation: 'compatible' });
  return new Date(local.epochMilliseconds);
}

/**
 * Creates reminders on a task in the caller's transaction, with their reminder.scheduled
 * events and the NOTIFY that re-arms the schedulers at COMMIT. POST /tasks calls it in the
 * task's own transaction (with the task's id: access checked there); `field` prefixes the
 * field named by a 422 (`reminders.0.`).
 */
export async function scheduleReminders(
  tx: Tx,
  actor: Actor,
  now: Date,
  task: TaskTiming | string,
  inputs: ReadonlyArray<Omit<CreateReminderInput, 'channel'> & { channel?: CreateReminderInput['channel'] | undefined }>,
  field: (index: number) => string = () => '',
): Promise<ReminderView[]> {
  if (inputs.length === 0) return [];
  const timed = typeof task === 'string' ? await taskTiming(tx.q, task) : task;
  if (!timed) throw new NotFound(`Task ${task} not found`);
  const values = inputs.map((input, i) => ({
    id: randomUUID(),
    task_id: timed.id,
    user_id: actor.userId,
    channel: input.channel ?? 'all',
    ...timing(input, timed, field(i)),
    created_at: now,
    updated_at: now,
  }));
  const rows = await tx.q.insertInto('reminders').values(values).returningAll().execute();
  await appendReminderEvents(tx, actor, now, 'reminder.scheduled', rows);
  // In time order, as GET /tasks/{id} lists them.
  const order = (r: ReminderRow) => `${new Date(r.remind_at).toISOString()} ${r.id}`;
  return rows.sort((a, b) => order(a).localeCompare(order(b))).map(toReminderView);
}

/** The actor's reminders on a task, in time order (the caller checked access to the task). */
export async function taskReminders(q: Tx['q'] | Kysely<DB>, userId: string, taskId: string): Promise<ReminderView[]> {
  const rows = await q
    .selectFrom('reminders')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('user_id', '=', userId)
    .orderBy('remind_at')
    .orderBy('id')
    .execute();
  return rows.map(toReminderView);
}

/** The user's default reminder offset (reminder settings), as a subquery for the caller's SELECT. */
export function defaultReminderOffset(q: Tx['q'] | Kysely<DB>, userId: string) {
  return q.selectFrom('reminder_settings').select('default_offset_text').where('user_id', '=', userId);
}

/** The events of reminders written together (created, moved, cancelled), and a scheduler nudge. */
export async function appendReminderEvents(
  tx: Tx,
  actor: Actor,
  now: Date,
  type: EventType,
  rows: ReadonlyArray<Pick<ReminderRow, 'id' | 'task_id' | 'user_id' | 'remind_at' | 'offset_text' | 'version'>>,
  causationId: string | null = null,
) {
  if (rows.length === 0) return;
  await appendEvents(
    tx,
    actor,
    now,
    rows.map((r) => ({
      type,
      aggregateType: 'reminder' as const,
      aggregateId: r.id,
      aggregateVersion: r.version,
      userId: r.user_id,
      causationId,
      data: { reminder_id: r.id, task_id: r.task_id, remind_at: iso(r.remind_at), offset: r.offset_text },
    })),
  );
  await notifyReminders.execute(tx.q);
}

async function appendReminderEvent(tx: Tx, actor: Actor, now: Date, type: EventType, r: ReminderRow, extra = {}) {
  await appendEvents(tx, actor, now, [
    {
      type,
      aggregateType: 'reminder',
      aggregateId: r.id,
      aggregateVersion: r.version,
      userId: r.user_id,
      data: { reminder_id: r.id, task_id: r.task_id, remind_at: iso(r.remind_at), offset: r.offset_text, ...extra },
    },
  ]);
  await notifyReminders.execute(tx.q);
}

export function createReminderService(deps: ReminderServiceDeps) {
  const { db, transact, clock } = deps;
  const changed = <T>(value: T): T => {
    deps.onChanged?.();
    return value;
  };

  /** A reminder of the actor's, on a task they can still see (else 404). */
  async function ownReminder(q: Tx['q'] | Kysely<DB>, actor: Actor, id: string, lock = false): Promise<ReminderRow> {
    let query = q
      .selectFrom('reminders')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', actor.userId)
      .where('task_id', 'in', q.selectFrom('tasks').select('id').where('list_id', 'in', accessibleListIds(q, actor.userId)));
    if (lock) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) throw new NotFound(`Reminder ${id} not found`);
    return row;
  }

  return {
    async createReminder(actor: Actor, taskId: string, input: CreateReminderInput): Promise<ReminderView> {
      return changed(
        await transact(async (tx) => {
          const now = clock.now();
          const task = await taskDue(tx.q, actor, taskId, true);
          const [view] = await scheduleReminders(tx, actor, now, task, [input]);
          return view as ReminderView;
        }),
      );
    },

    async listTaskReminders(actor: Actor, taskId: string): Promise<ReminderView[]> {
      const task = await transact((tx) => taskDue(tx.q, actor, taskId, false));
      return taskReminders(db, actor.userId, task.id);
    },

    async listReminders(actor: Actor, query: ListRemindersQuery): Promise<ReminderView[]> {
      let q = db
        .selectFrom('reminders')
        .selectAll()
        .where('user_id', '=', actor.userId)
        .where('task_id', 'in', db.selectFrom('tasks').select('id').where('list_id', 'in', accessibleListIds(db, actor.userId)));
      if (query.status) q = q.where('status', '=', query.status);
      if (query.from) q = q.where('remind_at', '>=', new Date(query.from));
      if (query.to) q = q.where('remind_at', '<', new Date(query.to));
      const rows = await q.orderBy('remind_at').orderBy('id').limit(query.limit).execute();
      return rows.map(toReminderView);
    },

    async getReminder(actor: Actor, id: string): Promise<ReminderView> {
      return toReminderView(await ownReminder(db, actor, id));
    },

    async updateReminder(actor: Actor, id: string, patch: UpdateReminderInput): Promise<ReminderView> {
      return changed(
        await transact(async (tx) => {
          const now = clock.now();
          const current = await ownReminder(tx.q, actor, id, true);
          const task = await taskDue(tx.q, actor, current.task_id, true);
          const when = patch.offset !== undefined || patch.remind_at !== undefined ? timing(patch, task) : {};
          const row = await tx.q
            .updateTable('reminders')
            .set({
              ...when,
              ...(patch.channel ? { channel: patch.channel } : {}),
              // A re-timed reminder is pending again (it fires, once, at its new time).
              ...('remind_at' in when ? { status: 'pending' as const, cancel_reason: null, sent_at: null } : {}),
              updated_at: now,
              version: current.version + 1,
            })
            .where('id', '=', id)
            .returningAll()
            .executeTakeFirstOrThrow();
          await appendReminderEvent(tx, actor, now, 'reminder.rescheduled', row);
          return toReminderView(row);
        }),
      );
    },

    async deleteReminder(actor: Actor, id: string): Promise<void> {
      changed(
        await transact(async (tx) => {
          const now = clock.now();
          const current = await ownReminder(tx.q, actor, id, true);
          await tx.q.deleteFrom('reminders').where('id', '=', id).execute();
          await appendReminderEvent(
            tx,
            actor,
            now,
            'reminder.cancelled',
            { ...current, version: current.version + 1 },
            {
              reason: 'deleted',
            },
          );
        }),
      );
    },

    /** Fires the reminder again later (pending, absolute): 5m/15m/1h from now, or 09:00 tomorrow. */
    async snoozeReminder(actor: Actor, id: string, duration: SnoozePreset): Promise<ReminderView> {
      return changed(
        await transact(async (tx) => {
          const now = clock.now();
          const current = await ownReminder(tx.q, actor, id, true);
          const user = await tx.q
            .selectFrom('users')
            .select('time_zone')
            .where('id', '=', actor.userId)
            .executeTakeFirstOrThrow();
          const row = await tx.q
            .updateTable('reminders')
            .set({
              remind_at: snoozeUntil(duration, now, user.time_zone),
              offset_seconds: null,
              offset_text: null,
              status: 'pending',
              cancel_reason: null,
              sent_at: null,
              updated_at: now,
              version: current.version + 1,
            })
            .where('id', '=', id)
            .returningAll()
            .executeTakeFirstOrThrow();
          await appendReminderEvent(tx, actor, now, 'reminder.snoozed', row, { snooze: duration });
          return toReminderView(row);
        }),
      );
    },

    async getSettings(actor: Actor) {
      const row = await db.selectFrom('reminder_settings').selectAll().where('user_id', '=', actor.userId).executeTakeFirst();
      return {
        default_offset: row?.default_offset_text ?? null,
        webhook_url: row?.webhook_url ?? null,
        webhook_secret: row?.webhook_secret ?? null,
      };
    },

    async updateSettings(actor: Actor, input: UpdateReminderSettingsInput, options: { allowHttpWebhooks: boolean }) {
      if (input.webhook_url) {
        const url = new URL(input.webhook_url);
        const local = url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
        if (url.protocol !== 'https:' && !(local && options.allowHttpWebhooks)) {
          throw new ValidationFailed('Webhooks must use HTTPS', {
            errors: [{ field: 'webhook_url', message: 'must be https://' }],
          });
        }
      }
      await transact(async (tx) => {
        const current = await tx.q
          .selectFrom('reminder_settings')
          .selectAll()
          .where('user_id', '=', actor.userId)
          .forUpdate()
          .executeTakeFirst();
        const next = {
          default_offset_seconds:
            input.default_offset === undefined
              ? (current?.default_offset_seconds ?? null)
              : input.default_offset === null
                ? null
                : parseOffset(input.default_offset),
          default_offset_text:
            input.default_offset === undefined ? (current?.default_offset_text ?? null) : (input.default_offset ?? null),
          webhook_url: input.webhook_url === undefined ? (current?.webhook_url ?? null) : input.webhook_url,
          webhook_secret: current?.webhook_secret ?? randomBytes(32).toString('base64url'),
          updated_at: clock.now(),
        };
        await tx.q
          .insertInto('reminder_settings')
          .values({ user_id: actor.userId, ...next })
          .onConflict((oc) => oc.column('user_id').doUpdateSet(next))
          .execute();
      });
      return this.getSettings(actor);
    },

    async listNotifications(actor: Actor, query: { status: 'unread' | 'read' | 'all'; limit: number }) {
      let q = db.selectFrom('notifications').selectAll().where('user_id', '=', actor.userId);
      if (query.status === 'unread') q = q.where('read_at', 'is', null);
      if (query.status === 'read') q = q.where('read_at', 'is not', null);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id').limit(query.limit).execute();
      const unread = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('user_id', '=', actor.userId)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow();
      return { items: rows.map(toNotificationView), unread: Number(unread.n) };
    },

    async markNotificationRead(actor: Actor, id: string) {
      const row = await db
        .updateTable('notifications')
        .set((eb) => ({ read_at: eb.fn.coalesce('read_at', eb.val(clock.now())) }))
        .where('id', '=', id)
        .where('user_id', '=', actor.userId)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new NotFound(`Notification ${id} not found`);
      return toNotificationView(row);
    },

    async markAllNotificationsRead(actor: Actor): Promise<number> {
      const result = await db
        .updateTable('notifications')
        .set({ read_at: clock.now() })
        .where('user_id', '=', actor.userId)
        .where('read_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async addPushSubscription(actor: Actor, sub: { endpoint: string; keys: { p256dh: string; auth: string } }) {
      const values = { user_id: actor.userId, p256dh: sub.keys.p256dh, auth: sub.keys.auth };
      const row = await db
        .insertInto('push_subscriptions')
        .values({ id: randomUUID(), endpoint: sub.endpoint, ...values })
        .onConflict((oc) => oc.column('endpoint').doUpdateSet(values))
        .returning(['id', 'endpoint'])
        .executeTakeFirstOrThrow();
      return row;
    },

    async removePushSubscription(actor: Actor, id: string): Promise<void> {
      const result = await db
        .deleteFrom('push_subscriptions')
        .where('id', '=', id)
        .where('user_id', '=', actor.userId)
        .executeTakeFirst();
      if (result.numDeletedRows === 0n) throw new NotFound(`Push subscription ${id} not found`);
    },
  };
}

function toNotificationView(n: Selectable<NotificationsTable>) {
  return {
    id: n.id,
    reminder_id: n.reminder_id,
    task_id: n.task_id,
    title: n.title,
    remind_at: iso(n.remind_at),
    created_at: iso(n.created_at),
    read: n.read_at !== null,
    read_at: n.read_at ? iso(n.read_at) : null,
  };
}
