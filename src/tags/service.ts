// Tags belong to a user and are unique per user case-insensitively ("Work" = "work").
// Tasks refer to tags by name; a name seen for the first time creates the tag (and a
// tag.created event) inside the caller's transaction. The tag service manages them
// directly: list with open-task counts, create, rename/recolor, delete (retag-tasks.ts
// keeps the history of every task that carried the tag true).
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { DB } from '../db/tables.js';
import type { Transact, Tx } from '../db/transaction.js';
import { Conflict, NotFound } from '../errors.js';
import { appendEvents } from '../events/append-events.js';
import type { Actor, NewEvent } from '../events/types.js';
import { accessibleListIds } from '../lists/access.js';
import { retagTasks } from './retag-tasks.js';
import type { CreateTagInput, TagView, UpdateTagInput } from './schema.js';

export { taskTagNamesSql } from './retag-tasks.js';

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

/**
 * tasks.tag_names and tasks.tag_keys for tags in display order, as the task_tags trigger
 * derives them (migration 0004). A writer that sets them with the row spares the trigger a
 * second write of it; if they ever differ (Unicode case rules), the trigger corrects them.
 */
export function derivedTagColumns(tags: readonly TagRef[]): { tag_names: string; tag_keys: string[] } {
  return { tag_names: tags.map((t) => t.name).join(' '), tag_keys: tags.map((t) => t.name.toLowerCase()) };
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

export interface TagServiceDeps {
  db: Kysely<DB>;
  transact: Transact;
  clock: Clock;
}

export type TagService = ReturnType<typeof createTagService>;

interface TagRow {
  id: string;
  name: string;
  color: string | null;
  created_at: Date;
  version: number;
}

export function createTagService({ db, transact, clock }: TagServiceDeps) {
  /** The user's tags by name, each with the number of open tasks (that the user can see) carrying it. */
  async function listTags(actor: Actor): Promise<TagView[]> {
    const rows = await selectTags(db, actor.userId).execute();
    return rows.map(toTagView).sort((a, b) => compareTagNames(a.name, b.name));
  }

  async function getTag(actor: Actor, id: string): Promise<TagView> {
    const row = await selectTags(db, actor.userId).where('tags.id', '=', id).executeTakeFirst();
    if (!row) throw new NotFound(`Tag ${id} not found`);
    return toTagView(row);
  }

  async function createTag(actor: Actor, input: CreateTagInput): Promise<TagView> {
    const id = await transact(async (tx) => {
      const now = clock.now();
      const created = await sql<{ id: string }>`
        INSERT INTO tags (id, user_id, name, color, created_at)
        VALUES (${randomUUID()}, ${actor.userId}, ${input.name}, ${input.color ?? null}, ${now})
        ON CONFLICT (user_id, lower(name)) DO NOTHING
        RETURNING id`.execute(tx.q);
      const row = created.rows[0];
      if (!row) throw nameTaken(input.name);
      await appendTagEvent(tx, actor, now, row.id, 1, 'tag.created', { name: input.name, color: input.color ?? null });
      return row.id;
    });
    return getTag(actor, id);
  }

  /**
   * Renames and/or recolors a tag. A rename shows on every task carrying the tag, so each of
   * them gets a task.updated event (tags before/after) caused by the tag.renamed event.
   */
  async function updateTag(actor: Actor, id: string, input: UpdateTagInput): Promise<TagView> {
    await transact(async (tx) => {
      const tag = await lockTag(tx, actor.userId, id);
      const now = clock.now();
      let version = tag.version;
      if (input.name !== undefined && input.name !== tag.name) {
        const newName = input.name;
        const clash = await tx.q
          .selectFrom('tags')
          .select('id')
          .where('user_id', '=', actor.userId)
          .where(sql<string>`lower(name)`, '=', sql<string>`lower(${newName})`)
          .where('id', '!=', id)
          .executeTakeFirst();
        if (clash) throw nameTaken(newName);
        const [renamed] = await appendTagEvent(tx, actor, now, id, ++version, 'tag.renamed', {
          before: { name: tag.name },
          after: { name: newName },
        });
        await retagTasks(tx, actor, now, id, renamed.eventId, async () => {
          await tx.q.updateTable('tags').set({ name: newName }).where('id', '=', id).execute();
        });
      }
      if (input.color !== undefined && (input.color ?? null) !== tag.color) {
        const color = input.color ?? null;
        await tx.q.updateTable('tags').set({ color }).where('id', '=', id).execute();
        await appendTagEvent(tx, actor, now, id, ++version, 'tag.recolored', {
          name: input.name ?? tag.name,
          before: { color: tag.color },
          after: { color },
        });
      }
      if (version !== tag.version) await tx.q.updateTable('tags').set({ version }).where('id', '=', id).execute();
    });
    return getTag(actor, id);
  }

  /** Deletes a tag and takes it off every task (each gets a task.updated caused by tag.deleted). */
  async function deleteTag(actor: Actor, id: string): Promise<void> {
    await transact(async (tx) => {
      const tag = await lockTag(tx, actor.userId, id);
      const now = clock.now();
      const [deleted] = await appendTagEvent(tx, actor, now, id, tag.version + 1, 'tag.deleted', { name: tag.name });
      await retagTasks(tx, actor, now, id, deleted.eventId, async () => {
        await tx.q.deleteFrom('task_tags').where('tag_id', '=', id).execute();
      });
      await tx.q.deleteFrom('tags').where('id', '=', id).execute();
    });
  }

  return { listTags, getTag, createTag, updateTag, deleteTag };
}

/**
 * Tags with their open-task counts: the sum of the tag's counters over the reader's lists and the counter's shards
 * (tag_open_counts, kept by a trigger on tasks in the writing transaction: migration 0007).
 * O(tags × lists), whatever the number of tasks; the same answer as counting the open tasks
 * whose tag_keys hold the name (test/tags.test.ts checks the two agree).
 */
function selectTags(q: Kysely<DB>, userId: string) {
  return q
    .selectFrom('tags')
    .select(['tags.id', 'tags.name', 'tags.color', 'tags.created_at', 'tags.version'])
    .select((eb) =>
      eb
        .selectFrom('tag_open_counts')
        .select((counts) => counts.fn.sum<string>('tag_open_counts.open_tasks').as('n'))
        .where('tag_open_counts.list_id', 'in', accessibleListIds(q, userId))
        .where('tag_open_counts.tag_key', '=', sql<string>`lower(tags.name)`)
        .as('open_tasks'),
    )
    .where('tags.user_id', '=', userId);
}

function toTagView(row: TagRow & { open_tasks: string | number | null }): TagView {
  return {
    id: row.id,
    name: row.name,
    color: row.color,
    open_tasks: Number(row.open_tasks ?? 0),
    created_at: row.created_at.toISOString(),
    version: row.version,
  };
}

async function lockTag(tx: Tx, userId: string, id: string): Promise<TagRow> {
  const tag = await tx.q
    .selectFrom('tags')
    .select(['id', 'name', 'color', 'created_at', 'version'])
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  if (!tag) throw new NotFound(`Tag ${id} not found`);
  return tag;
}

function nameTaken(name: string): Conflict {
  return new Conflict(`You already have a tag named '${name}'`, {
    errors: [{ field: 'name', message: 'a tag with this name exists (names ignore case)' }],
  });
}

async function appendTagEvent(
  tx: Tx,
  actor: Actor,
  now: Date,
  id: string,
  version: number,
  type: NewEvent['type'],
  data: Record<string, unknown>,
) {
  const stored = await appendEvents(tx, actor, now, [
    { type, aggregateType: 'tag', aggregateId: id, aggregateVersion: version, userId: actor.userId, data },
  ]);
  return stored as [(typeof stored)[number], ...typeof stored];
}
