// THE place that decides which lists (and so which tasks) a user may see or change.
// Every query, stream and tool scopes through these subqueries; no SQL elsewhere filters
// by user id directly. Shared lists (roles, invitations) will extend only this module.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/tables.js';

type Q = Kysely<DB> | Transaction<DB>;

/** Ids of every list the user is a member of (any role). */
export function accessibleListIds(q: Q, userId: string) {
  return q.selectFrom('list_members').select('list_members.list_id').where('list_members.user_id', '=', userId);
}

/** Ids of the lists whose tasks the user may change. */
export function writableListIds(q: Q, userId: string) {
  return accessibleListIds(q, userId).where('list_members.role', 'in', ['owner', 'editor']);
}
