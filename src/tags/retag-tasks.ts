// A tag rename or delete changes what every task carrying it shows. History must stay true
// (folding a task's events equals GET /tasks/{id}), so each such task gets a task.updated
// event with its tag names before and after, a new version and updated_at, in the same
// transaction as the tag change. Set-based: one lock, two reads, one update, batched appends.
import { sql } from 'kysely';
import type { Tx } from '../db/transaction.js';
import { appendEvents } from '../events/append-events.js';
import type { Actor, NewEvent } from '../events/types.js';

interface TaskTags {
  id: string;
  owner_id: string;
  tags: string[];
}

// appendEvents sends ~11 parameters per event; PostgreSQL allows 65 535 per statement.
const EVENTS_PER_INSERT = 1000;

/**
 * A task's tag names in display order, as GET shows them (for a query over `tasks`). The
 * OFFSET 0 fence keeps it one lookup per tag of the task: as a plain join, the planner
 * hashes the whole tags table once per task while that table is small (a page of 50 took
 * 1.9 ms that way at 250 tags, 1.0 ms this way; docs/search-explain.md).
 */
export const taskTagNamesSql = sql<string[]>`coalesce((
  SELECT array_agg(tag.name ORDER BY lower(tag.name) COLLATE "C", tag.name COLLATE "C")
  FROM task_tags CROSS JOIN LATERAL (
    SELECT tags.name FROM tags WHERE tags.id = task_tags.tag_id OFFSET 0) AS tag
  WHERE task_tags.task_id = tasks.id), '{}')`;

async function readTaskTags(tx: Tx, taskIds: readonly string[]): Promise<Map<string, TaskTags>> {
  if (taskIds.length === 0) return new Map();
  const { rows } = await sql<TaskTags>`
    SELECT tasks.id, lists.owner_id, ${taskTagNamesSql} AS tags
    FROM tasks JOIN lists ON lists.id = tasks.list_id
    WHERE tasks.id = ANY(${sql.val(taskIds)}::uuid[])`.execute(tx.q);
  return new Map(rows.map((r) => [r.id, r]));
}

/**
 * Runs `change` (which renames the tag, or detaches and deletes it) and records its effect
 * on every task that carried the tag: version + 1, updated_at = now, and a task.updated
 * event caused by `causationId`. Returns how many tasks changed.
 */
export async function retagTasks(
  tx: Tx,
  actor: Actor,
  now: Date,
  tagId: string,
  causationId: string,
  change: () => Promise<void>,
): Promise<number> {
  // Lock in id order, as every other multi-task writer must, so that two of them never deadlock.
  const locked = await sql<{ id: string }>`
    SELECT tasks.id FROM tasks
    WHERE tasks.id IN (SELECT task_id FROM task_tags WHERE tag_id = ${tagId})
    ORDER BY tasks.id
    FOR UPDATE OF tasks`.execute(tx.q);
  const ids = locked.rows.map((r) => r.id);
  const before = await readTaskTags(tx, ids);
  await change();
  if (ids.length === 0) return 0;
  const after = await readTaskTags(tx, ids);
  const bumped = await sql<{ id: string; version: number }>`
    UPDATE tasks SET version = version + 1, updated_at = ${now}
    WHERE id = ANY(${sql.val(ids)}::uuid[])
    RETURNING id, version`.execute(tx.q);
  const events: NewEvent[] = bumped.rows.map((row) => {
    const was = before.get(row.id);
    return {
      type: 'task.updated',
      aggregateType: 'task',
      aggregateId: row.id,
      aggregateVersion: row.version,
      userId: was?.owner_id ?? actor.userId,
      data: { before: { tags: was?.tags ?? [] }, after: { tags: after.get(row.id)?.tags ?? [] } },
      causationId,
    };
  });
  for (let i = 0; i < events.length; i += EVENTS_PER_INSERT) {
    await appendEvents(tx, actor, now, events.slice(i, i + EVENTS_PER_INSERT));
  }
  return events.length;
}
