// The reminder planner: a consumer of task events that keeps reminders in step with their
// task, in the consumer's transaction (exactly once with its checkpoint). It reads the
// task's CURRENT due moment rather than the event's, so replaying or reordering events
// converges on the same reminders.
//
// - task.created with a due time + a user default → one relative reminder
// - task.updated / task.occurrence.skipped changing due → move relative reminders (a sent
//   one whose new time is in the future is pending again); due removed → cancel them
// - task.completed / task.deleted → cancel pending (reason kept for undo)
// - task.reopened / task.restored → pending again those cancelled by it, still in the future
// - task.recurrence.generated {previous_task_id, task_id} → copy relative reminders
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Tx } from '../db/transaction.js';
import { appendEvents } from '../events/append-events.js';
import type { Consumer } from '../events/consumer.js';
import type { EventType, StoredEvent } from '../events/types.js';
import { notifyReminders } from './scheduler.js';

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
      'task.created',
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
        case 'task.created':
          changed = await applyDefault(tx, event, now);
          type = 'reminder.scheduled';
          break;
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

async function announce(tx: Tx, cause: StoredEvent, type: EventType, rows: Changed[], now: Date) {
  if (rows.length === 0) return;
  await appendEvents(
    tx,
    { userId: cause.actorId ?? cause.userId, correlationId: cause.correlationId },
    now,
    rows.map((r) => ({
      type,
      aggregateType: 'reminder' as const,
      aggregateId: r.id,
      aggregateVersion: r.version,
      userId: r.user_id,
      causationId: cause.eventId,
      data: { reminder_id: r.id, task_id: r.task_id, remind_at: new Date(r.remind_at).toISOString(), offset: r.offset_text },
    })),
  );
  await notifyReminders.execute(tx.q);
}

const RETURNING = sql`RETURNING r.id, r.task_id, r.user_id, r.remind_at, r.offset_text, r.version`;

async function applyDefault(tx: Tx, event: StoredEvent, now: Date): Promise<Changed[]> {
  const rows = await sql<Changed>`
    INSERT INTO reminders AS r (id, task_id, user_id, remind_at, offset_seconds, offset_text, created_at, updated_at)
    SELECT ${randomUUID()}::uuid, t.id, s.user_id, t.due_key - make_interval(secs => s.default_offset_seconds),
           s.default_offset_seconds, s.default_offset_text, ${now}, ${now}
    FROM tasks t
    JOIN reminder_settings s ON s.user_id = ${event.userId}::uuid AND s.default_offset_seconds IS NOT NULL
    -- Not on a generated instance of a series: it inherits the previous one's reminders.
    WHERE t.id = ${event.aggregateId}::uuid AND t.due_key IS NOT NULL AND t.previous_task_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM reminders x WHERE x.task_id = t.id)
    ${RETURNING}`.execute(tx.q);
  return rows.rows;
}

async function moveRelative(tx: Tx, taskId: string, now: Date): Promise<Changed[]> {
  // Relative reminders follow the due moment; without one they are cancelled.
  const rows = await sql<Changed>`
    UPDATE reminders r
    SET remind_at = CASE WHEN t.due_key IS NULL THEN r.remind_at
                         ELSE t.due_key - make_interval(secs => r.offset_seconds) END,
        status = CASE WHEN t.due_key IS NULL THEN 'cancelled'
                      WHEN t.due_key - make_interval(secs => r.offset_seconds) > ${now} THEN 'pending'
                      ELSE r.status END,
        cancel_reason = CASE WHEN t.due_key IS NULL THEN 'due_removed' ELSE NULL END,
        sent_at = CASE WHEN t.due_key IS NOT NULL AND t.due_key - make_interval(secs => r.offset_seconds) > ${now}
                       THEN NULL ELSE r.sent_at END,
        version = r.version + 1,
        updated_at = ${now}
    FROM tasks t
    WHERE t.id = r.task_id AND r.task_id = ${taskId}::uuid AND r.offset_seconds IS NOT NULL
      AND (r.status = 'pending' OR (r.status = 'sent' AND t.due_key - make_interval(secs => r.offset_seconds) > ${now}))
      AND r.remind_at IS DISTINCT FROM t.due_key - make_interval(secs => r.offset_seconds)
    ${RETURNING}`.execute(tx.q);
  return rows.rows;
}

async function cancelPending(tx: Tx, taskId: string, reason: string, now: Date): Promise<Changed[]> {
  const rows = await sql<Changed>`
    UPDATE reminders r SET status = 'cancelled', cancel_reason = ${reason}, version = r.version + 1, updated_at = ${now}
    WHERE r.task_id = ${taskId}::uuid AND r.status = 'pending'
    ${RETURNING}`.execute(tx.q);
  return rows.rows;
}

async function restore(tx: Tx, taskId: string, reason: string, now: Date): Promise<Changed[]> {
  // Relative reminders are re-timed from the (restored) due moment first.
  const rows = await sql<Changed>`
    UPDATE reminders r
    SET status = 'pending', cancel_reason = NULL, version = r.version + 1, updated_at = ${now},
        remind_at = COALESCE(t.due_key - make_interval(secs => r.offset_seconds), r.remind_at)
    FROM tasks t
    WHERE t.id = r.task_id AND r.task_id = ${taskId}::uuid AND r.status = 'cancelled' AND r.cancel_reason = ${reason}
      AND COALESCE(t.due_key - make_interval(secs => r.offset_seconds), r.remind_at) > ${now}
    ${RETURNING}`.execute(tx.q);
  return rows.rows;
}

async function copyRelative(tx: Tx, fromTask: string, toTask: string, now: Date): Promise<Changed[]> {
  // One reminder per distinct (offset, channel) of the previous instance; none twice.
  const rows = await sql<Changed>`
    INSERT INTO reminders AS r (id, task_id, user_id, remind_at, offset_seconds, offset_text, channel, created_at, updated_at)
    SELECT gen_random_uuid(), t.id, p.user_id, t.due_key - make_interval(secs => p.offset_seconds),
           p.offset_seconds, p.offset_text, p.channel, ${now}, ${now}
    FROM (SELECT DISTINCT user_id, offset_seconds, offset_text, channel FROM reminders
          WHERE task_id = ${fromTask}::uuid AND offset_seconds IS NOT NULL) p
    JOIN tasks t ON t.id = ${toTask}::uuid AND t.due_key IS NOT NULL
    WHERE NOT EXISTS (SELECT 1 FROM reminders x WHERE x.task_id = t.id AND x.offset_seconds = p.offset_seconds
                        AND x.channel = p.channel AND x.user_id = p.user_id)
    ${RETURNING}`.execute(tx.q);
  return rows.rows;
}
