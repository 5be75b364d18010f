// The reminder planner: a consumer of task events that keeps reminders in step with their
// task, in the consumer's transaction (exactly once with its checkpoint). It reads the
// task's CURRENT due moment rather than the event's, so replaying or reordering events
// converges on the same reminders. Relative reminders are timed by `reminderTime` (the one
// definition, DST-correct): rows are read FOR UPDATE, re-timed in TS, written back in one
// statement. A task has a handful of reminders, so this stays one round trip each way.
//
// (A new task's reminders, the user's default included, are written by POST /tasks in the
// task's own transaction: src/tasks/service.ts → scheduleReminders.)
// - task.updated / task.occurrence.skipped changing due → move relative reminders (a sent
//   one whose new time is in the future is pending again); due removed → cancel them
// - task.completed / task.deleted → cancel pending (reason kept for undo)
// - task.reopened / task.restored → pending again those cancelled by it, still in the future
// - task.recurrence.generated {previous_task_id, task_id} → copy relative reminders
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Tx } from '../db/transaction.js';
import type { Consumer } from '../events/consumer.js';
import type { EventType, StoredEvent } from '../events/types.js';
import { reminderTime } from './durations.js';
import { appendReminderEvents, type TaskTiming, taskTiming } from './service.js';

// Contract with the recurrence consumer: task.recurrence.generated on the NEW task with
// data {previous_task_id, task_id}; task.occurrence.skipped carries {before, after} due fields.
const RECURRENCE_GENERATED = 'task.recurrence.generated';
const OCCURRENCE_SKIPPED = 'task.occurrence.skipped';
const DUE_FIELDS = ['due_at', 'due_date', 'time_zone'];

interface Changed {
  id: string;
  task_id: string;
  user_id: string;
  remind_at: Date;
  offset_text: string | null;
  version: number;
}

export function reminderPlanner(clock: Clock): Consumer {
  return {
    name: 'reminder-planner',
    partitions: 1,
    handles: [
      'task.updated',
      'task.completed',
      'task.deleted',
      'task.reopened',
      'task.restored',
      RECURRENCE_GENERATED,
      OCCURRENCE_SKIPPED,
    ],
    async handle(event, tx) {
      const now = clock.now();
      const taskId = event.aggregateId;
      let changed: Changed[] = [];
      let type: EventType = 'reminder.rescheduled';
      switch (event.type) {
        case 'task.updated':
        case OCCURRENCE_SKIPPED: {
          const after = (event.data.after ?? {}) as Record<string, unknown>;
          if (!DUE_FIELDS.some((f) => f in after)) return;
          changed = await moveRelative(tx, taskId, now);
          break;
        }
        case 'task.completed':
        case 'task.deleted':
          changed = await cancelPending(tx, taskId, event.type === 'task.completed' ? 'task_completed' : 'task_deleted', now);
          type = 'reminder.cancelled';
          break;
        case 'task.reopened':
        case 'task.restored':
          changed = await restore(tx, taskId, event.type === 'task.reopened' ? 'task_completed' : 'task_deleted', now);
          break;
        case RECURRENCE_GENERATED: {
          const from = event.data.previous_task_id;
          const to = event.data.task_id ?? event.aggregateId;
          if (typeof from !== 'string' || typeof to !== 'string') return;
          changed = await copyRelative(tx, from, to, now);
          type = 'reminder.scheduled';
          break;
        }
        default:
          return;
      }
      await announce(tx, event, type, changed, now);
    },
  };
}

function announce(tx: Tx, cause: StoredEvent, type: EventType, rows: Changed[], now: Date) {
  const actor = { userId: cause.actorId ?? cause.userId, correlationId: cause.correlationId };
  return appendReminderEvents(tx, actor, now, type, rows, cause.eventId);
}

const RETURNING = sql`RETURNING r.id, r.task_id, r.user_id, r.remind_at, r.offset_text, r.version`;

interface Current {
  id: string;
  remind_at: Date;
  offset_text: string | null;
  status: 'pending' | 'sent' | 'cancelled';
  sent_at: Date | null;
}

interface Retimed {
  id: string;
  remind_at: Date;
  status: 'pending' | 'sent' | 'cancelled';
  cancel_reason: string | null;
  sent_at: Date | null;
}

/** The task's reminders matching `where`, locked for this transaction. */
async function lockReminders(tx: Tx, taskId: string, where: ReturnType<typeof sql>): Promise<Current[]> {
  const rows = await sql<Current>`
    SELECT r.id, r.remind_at, r.offset_text, r.status, r.sent_at FROM reminders r
    WHERE r.task_id = ${taskId}::uuid AND ${where}
    ORDER BY r.id
    FOR UPDATE`.execute(tx.q);
  return rows.rows.map((r) => ({ ...r, remind_at: new Date(r.remind_at) }));
}

/** Writes new times/states in one statement; bumps version; returns what changed. */
async function writeRetimed(tx: Tx, rows: Retimed[], now: Date): Promise<Changed[]> {
  if (rows.length === 0) return [];
  const result = await sql<Changed>`
    UPDATE reminders r
    SET remind_at = v.remind_at, status = v.status, cancel_reason = v.cancel_reason, sent_at = v.sent_at,
        version = r.version + 1, updated_at = ${now}
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
         AS v(id uuid, remind_at timestamptz, status text, cancel_reason text, sent_at timestamptz)
    WHERE r.id = v.id
    ${RETURNING}`.execute(tx.q);
  return result.rows;
}

/**
 * Relative reminders after a due change (pure): a pending one moves; a sent one whose new
 * time is in the future is pending again; without a due moment the pending ones are cancelled.
 */
export function planMove(rows: readonly Current[], task: TaskTiming, now: Date): Retimed[] {
  const out: Retimed[] = [];
  for (const r of rows) {
    if (r.offset_text === null || r.status === 'cancelled') continue;
    if (!task.due_key) {
      if (r.status === 'pending') out.push({ ...r, status: 'cancelled', cancel_reason: 'due_removed' });
      continue;
    }
    const at = reminderTime(task.due_key, task.zone, r.offset_text);
    const future = at.getTime() > now.getTime();
    if (at.getTime() === r.remind_at.getTime() || (r.status === 'sent' && !future)) continue;
    out.push({
      id: r.id,
      remind_at: at,
      status: future ? 'pending' : r.status,
      cancel_reason: null,
      sent_at: future ? null : r.sent_at,
    });
  }
  return out;
}

/** Reminders cancelled by a completion/deletion, re-timed from the restored due, still in the future (pure). */
export function planRestore(rows: readonly Current[], task: TaskTiming | undefined, now: Date): Retimed[] {
  return rows.flatMap((r) => {
    const at = r.offset_text !== null && task?.due_key ? reminderTime(task.due_key, task.zone, r.offset_text) : r.remind_at;
    return at.getTime() > now.getTime()
      ? [{ id: r.id, remind_at: at, status: 'pending' as const, cancel_reason: null, sent_at: r.sent_at }]
      : [];
  });
}

async function moveRelative(tx: Tx, taskId: string, now: Date): Promise<Changed[]> {
  const task = await taskTiming(tx.q, taskId);
  if (!task) return [];
  const rows = await lockReminders(tx, taskId, sql`r.offset_text IS NOT NULL AND r.status IN ('pending', 'sent')`);
  return writeRetimed(tx, planMove(rows, task, now), now);
}

async function cancelPending(tx: Tx, taskId: string, reason: string, now: Date): Promise<Changed[]> {
  const rows = await sql<Changed>`
    UPDATE reminders r SET status = 'cancelled', cancel_reason = ${reason}, version = r.version + 1, updated_at = ${now}
    WHERE r.task_id = ${taskId}::uuid AND r.status = 'pending'
    ${RETURNING}`.execute(tx.q);
  return rows.rows;
}

async function restore(tx: Tx, taskId: string, reason: string, now: Date): Promise<Changed[]> {
  const rows = await lockReminders(tx, taskId, sql`r.status = 'cancelled' AND r.cancel_reason = ${reason}`);
  if (rows.length === 0) return [];
  return writeRetimed(tx, planRestore(rows, await taskTiming(tx.q, taskId), now), now);
}

async function copyRelative(tx: Tx, fromTask: string, toTask: string, now: Date): Promise<Changed[]> {
  // One reminder per distinct (user, offset, channel) of the previous instance; none twice.
  const task = await taskTiming(tx.q, toTask);
  if (!task?.due_key) return [];
  const due = task.due_key;
  const offsets = await sql<{ user_id: string; offset_text: string; offset_seconds: number; channel: string }>`
    SELECT DISTINCT p.user_id, p.offset_text, p.offset_seconds, p.channel FROM reminders p
    WHERE p.task_id = ${fromTask}::uuid AND p.offset_text IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM reminders x WHERE x.task_id = ${toTask}::uuid AND x.offset_text = p.offset_text
                        AND x.channel = p.channel AND x.user_id = p.user_id)`.execute(tx.q);
  if (offsets.rows.length === 0) return [];
  const values = offsets.rows.map((p) => ({ ...p, id: randomUUID(), remind_at: reminderTime(due, task.zone, p.offset_text) }));
  const rows = await sql<Changed>`
    INSERT INTO reminders AS r (id, task_id, user_id, remind_at, offset_seconds, offset_text, channel, created_at, updated_at)
    SELECT v.id, ${toTask}::uuid, v.user_id, v.remind_at, v.offset_seconds, v.offset_text, v.channel, ${now}, ${now}
    FROM jsonb_to_recordset(${JSON.stringify(values)}::jsonb)
         AS v(id uuid, user_id uuid, remind_at timestamptz, offset_seconds integer, offset_text text, channel text)
    ${RETURNING}`.execute(tx.q);
  return rows.rows;
}
