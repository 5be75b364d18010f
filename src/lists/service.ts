// Lists hold tasks. Every user gets an Inbox at sign-up; a task created without a list
// goes there. (Named lists and sharing come with their own issue.)
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.js';
import type { Tx } from '../db/transaction.js';
import { appendEvents } from '../events/append-events.js';
import type { Actor } from '../events/types.js';
import { accessibleListIds } from './access.js';

export interface ListView {
  id: string;
  name: string;
  is_inbox: boolean;
  role: 'owner' | 'editor' | 'viewer';
  created_at: string;
}

export async function createInbox(tx: Tx, actor: Actor, now: Date): Promise<string> {
  const id = randomUUID();
  await tx.q.insertInto('lists').values({ id, owner_id: actor.userId, name: 'Inbox', is_inbox: true }).execute();
  await tx.q.insertInto('list_members').values({ list_id: id, user_id: actor.userId, role: 'owner' }).execute();
  await appendEvents(tx, actor, now, [
    {
      type: 'list.created',
      aggregateType: 'list',
      aggregateId: id,
      aggregateVersion: 1,
      userId: actor.userId,
      data: { name: 'Inbox', is_inbox: true },
    },
  ]);
  return id;
}

export async function inboxListId(q: Kysely<DB> | Tx['q'], userId: string): Promise<string> {
  const row = await q
    .selectFrom('lists')
    .select('id')
    .where('owner_id', '=', userId)
    .where('is_inbox', '=', true)
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function listLists(db: Kysely<DB>, userId: string): Promise<ListView[]> {
  const rows = await db
    .selectFrom('lists')
    .innerJoin('list_members', (j) => j.onRef('list_members.list_id', '=', 'lists.id').on('list_members.user_id', '=', userId))
    .select(['lists.id', 'lists.name', 'lists.is_inbox', 'list_members.role', 'lists.created_at'])
    .where('lists.id', 'in', accessibleListIds(db, userId))
    .orderBy('lists.is_inbox', 'desc')
    .orderBy('lists.created_at')
    .execute();
  return rows.map((r) => ({ ...r, created_at: r.created_at.toISOString() }));
}
