// Saved views: a user's named filter expressions with a sort. A view's filter is parsed
// before it is stored, so applying a view never fails on syntax. Views are owned by their
// user (like tags); each change is an event (view.created, view.updated, view.deleted).
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { DB } from '../db/tables.js';
import type { Transact, Tx } from '../db/transaction.js';
import { Conflict, NotFound, ValidationFailed } from '../errors.js';
import { appendEvents } from '../events/append-events.js';
import type { Actor, EventType } from '../events/types.js';
import { parseFilterField, type ViewSpec } from '../search/service.js';
import type { CreateViewInput, UpdateViewInput, ViewView } from './schema.js';

export interface ViewServiceDeps {
  db: Kysely<DB>;
  transact: Transact;
  clock: Clock;
}

export type ViewService = ReturnType<typeof createViewService>;

const VIEW_COLUMNS = ['id', 'name', 'filter', 'sort', 'sort_order', 'version', 'created_at', 'updated_at'] as const;
const FIELDS = ['name', 'filter', 'sort', 'order'] as const;

export function createViewService({ db, transact, clock }: ViewServiceDeps) {
  async function listViews(actor: Actor): Promise<ViewView[]> {
    const rows = await db
      .selectFrom('views')
      .select(VIEW_COLUMNS)
      .where('user_id', '=', actor.userId)
      .orderBy(sql`lower(name) COLLATE "C"`)
      .orderBy('id')
      .execute();
    return rows.map(toView);
  }

  async function getView(actor: Actor, id: string): Promise<ViewView> {
    const row = await db
      .selectFrom('views')
      .select(VIEW_COLUMNS)
      .where('id', '=', id)
      .where('user_id', '=', actor.userId)
      .executeTakeFirst();
    if (!row) throw new NotFound(`View ${id} not found`);
    return toView(row);
  }

  async function createView(actor: Actor, input: CreateViewInput): Promise<ViewView> {
    parseFilterField(input.filter, 'filter');
    return transact(async (tx) => {
      const now = clock.now();
      const created = await sql<Row>`
        INSERT INTO views (id, user_id, name, filter, sort, sort_order, created_at, updated_at)
        VALUES (${randomUUID()}, ${actor.userId}, ${input.name}, ${input.filter}, ${input.sort ?? null},
                ${input.order ?? null}, ${now}, ${now})
        ON CONFLICT (user_id, lower(name)) DO NOTHING
        RETURNING ${sql.join(VIEW_COLUMNS.map((c) => sql.ref(c)))}`.execute(tx.q);
      const row = created.rows[0];
      if (!row) throw nameTaken(input.name);
      const view = toView(row);
      await appendViewEvent(tx, actor, now, view, 'view.created', pick(view));
      return view;
    });
  }

  async function updateView(actor: Actor, id: string, input: UpdateViewInput): Promise<ViewView> {
    if (input.filter !== undefined) parseFilterField(input.filter, 'filter');
    return transact(async (tx) => {
      const current = await tx.q
        .selectFrom('views')
        .select(VIEW_COLUMNS)
        .where('id', '=', id)
        .where('user_id', '=', actor.userId)
        .forUpdate()
        .executeTakeFirst();
      if (!current) throw new NotFound(`View ${id} not found`);
      const before = pick(toView(current));
      const after = {
        name: input.name ?? before.name,
        filter: input.filter ?? before.filter,
        sort: input.sort === undefined ? before.sort : input.sort,
        order: input.order === undefined ? before.order : input.order,
      };
      const changed = FIELDS.filter((f) => before[f] !== after[f]);
      if (changed.length === 0) return toView(current);
      if (changed.includes('name')) {
        const clash = await tx.q
          .selectFrom('views')
          .select('id')
          .where('user_id', '=', actor.userId)
          .where(sql<string>`lower(name)`, '=', sql<string>`lower(${after.name})`)
          .where('id', '!=', id)
          .executeTakeFirst();
        if (clash) throw nameTaken(after.name);
      }
      const now = clock.now();
      const row = await tx.q
        .updateTable('views')
        .set((eb) => ({
          name: after.name,
          filter: after.filter,
          sort: after.sort,
          sort_order: after.order,
          version: eb('version', '+', 1),
          updated_at: now,
        }))
        .where('id', '=', id)
        .returning(VIEW_COLUMNS)
        .executeTakeFirstOrThrow();
      const view = toView(row);
      await appendViewEvent(tx, actor, now, view, 'view.updated', {
        before: Object.fromEntries(changed.map((f) => [f, before[f]])),
        after: Object.fromEntries(changed.map((f) => [f, after[f]])),
      });
      return view;
    });
  }

  async function deleteView(actor: Actor, id: string): Promise<void> {
    await transact(async (tx) => {
      const deleted = await tx.q
        .deleteFrom('views')
        .where('id', '=', id)
        .where('user_id', '=', actor.userId)
        .returning(VIEW_COLUMNS)
        .executeTakeFirst();
      if (!deleted) throw new NotFound(`View ${id} not found`);
      const view = toView(deleted);
      await appendViewEvent(tx, actor, clock.now(), { ...view, version: view.version + 1 }, 'view.deleted', {
        name: view.name,
      });
    });
  }

  return { listViews, getView, createView, updateView, deleteView };
}

/** The filter and sort of the user's view `id`, to apply to a list query; 422 when there is none. */
export async function findViewSpec(db: Kysely<DB>, userId: string, id: string): Promise<ViewSpec> {
  const row = await db
    .selectFrom('views')
    .select(['filter', 'sort', 'sort_order'])
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) throw new ValidationFailed(`View ${id} not found`, { errors: [{ field: 'query.view_id', message: 'no such view' }] });
  return { filter: row.filter, sort: row.sort, order: row.sort_order };
}

interface Row {
  id: string;
  name: string;
  filter: string;
  sort: ViewView['sort'];
  sort_order: ViewView['order'];
  version: number;
  created_at: Date;
  updated_at: Date;
}

function toView(row: Row): ViewView {
  return {
    id: row.id,
    name: row.name,
    filter: row.filter,
    sort: row.sort,
    order: row.sort_order,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    version: row.version,
  };
}

const pick = (view: ViewView) => ({ name: view.name, filter: view.filter, sort: view.sort, order: view.order });

function nameTaken(name: string): Conflict {
  return new Conflict(`You already have a view named '${name}'`, {
    errors: [{ field: 'name', message: 'a view with this name exists (names ignore case)' }],
  });
}

async function appendViewEvent(
  tx: Tx,
  actor: Actor,
  now: Date,
  view: ViewView,
  type: EventType,
  data: Record<string, unknown>,
): Promise<void> {
  await appendEvents(tx, actor, now, [
    { type, aggregateType: 'view', aggregateId: view.id, aggregateVersion: view.version, userId: actor.userId, data },
  ]);
}
