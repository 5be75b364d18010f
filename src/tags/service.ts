// Tags belong to a user and are unique per user case-insensitively ("Work" = "work").
// Tasks refer to tags by name; a name seen for the first time creates the tag (and a
// tag.created event) inside the caller's transaction.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Tx } from '../db/transaction.js';
import { appendEvents } from '../events/append-events.js';
import type { Actor } from '../events/types.js';

export interface TagRef {
  id: string;
  name: string;
}

/** Returns the user's tags for `names` (canonical spelling, sorted), creating missing ones. */
export async function resolveTags(tx: Tx, actor: Actor, now: Date, names: readonly string[]): Promise<TagRef[]> {
  if (names.length === 0) return [];
  const wanted = names.map((n) => n.toLowerCase());
  const findExisting = () =>
    tx.q
      .selectFrom('tags')
      .select(['id', 'name'])
      .where('user_id', '=', actor.userId)
      .where(sql<string>`lower(name)`, 'in', wanted)
      .execute();
  let found = await findExisting();
  const known = new Set(found.map((t) => t.name.toLowerCase()));
  const missing = names.filter((n) => !known.has(n.toLowerCase()));
  if (missing.length > 0) {
    // ON CONFLICT: a concurrent request may create the same tag first; we then use theirs.
    const values = missing.map((name) => sql`(${randomUUID()}::uuid, ${actor.userId}::uuid, ${name}, ${now})`);
    const created = await sql<TagRef>`
      INSERT INTO tags (id, user_id, name, created_at)
      VALUES ${sql.join(values)}
      ON CONFLICT (user_id, lower(name)) DO NOTHING
      RETURNING id, name`.execute(tx.q);
    await appendEvents(
      tx,
      actor,
      now,
      created.rows.map((t) => ({
        type: 'tag.created' as const,
        aggregateType: 'tag' as const,
        aggregateId: t.id,
        aggregateVersion: 1,
        userId: actor.userId,
        data: { name: t.name },
      })),
    );
    if (created.rows.length < missing.length) found = await findExisting();
    else found = [...found, ...created.rows];
  }
  return found.sort((a, b) => compareTagNames(a.name, b.name));
}

/**
 * Tag order everywhere (the SQL in tasks/service.ts sorts the same way): case-insensitive,
 * by code point (COLLATE "C"), so that the order does not depend on the server's locale.
 */
export function compareTagNames(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Makes the task's tag set exactly `tagIds`. */
export async function setTaskTags(tx: Tx, taskId: string, tagIds: readonly string[]): Promise<void> {
  let removal = tx.q.deleteFrom('task_tags').where('task_id', '=', taskId);
  if (tagIds.length > 0) removal = removal.where('tag_id', 'not in', tagIds);
  await removal.execute();
  if (tagIds.length > 0) {
    await tx.q
      .insertInto('task_tags')
      .values(tagIds.map((tag_id) => ({ task_id: taskId, tag_id })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}
