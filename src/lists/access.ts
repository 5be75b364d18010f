// THE place that decides which lists (and so which tasks and events) a user may see or
// change. Every query, stream and tool scopes through these subqueries; no SQL elsewhere
// filters by user id directly. Shared lists (roles, invitations) will extend only this module.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/tables.js';
import { EVENT_COLUMNS } from '../events/types.js';

type Q = Kysely<DB> | Transaction<DB>;

/** Ids of every list the user is a member of (any role). */
export function accessibleListIds(q: Q, userId: string) {
  return q.selectFrom('list_members').select('list_members.list_id').where('list_members.user_id', '=', userId);
}

/** Ids of the lists whose tasks the user may change. */
export function writableListIds(q: Q, userId: string) {
  return accessibleListIds(q, userId).where('list_members.role', 'in', ['owner', 'editor']);
}

/**
 * The events the user may read (activity feed, task history, revert), as a query named
 * `events` to add selects and filters to: the live log plus events_archive (retention
 * moves old events there; history must not lose them). PostgreSQL pushes the filters into
 * both arms, and ORDER BY seq with LIMIT becomes a merge of two index scans. Today: the
 * events of the user's own aggregates. Shared lists will widen this to the events of tasks
 * in accessible lists; callers must not care.
 */
export function visibleEvents(q: Q, userId: string) {
  const live = q.selectFrom('events').select(EVENT_COLUMNS).where('events.user_id', '=', userId);
  const archived = q.selectFrom('events_archive').select(EVENT_COLUMNS).where('events_archive.user_id', '=', userId);
  return q.selectFrom(live.unionAll(archived).as('events'));
}

/**
 * Who may see one event, for streams that route the whole log to their connections (the
 * real-time hub) instead of querying per user: the same rule as visibleEvents, applied to
 * an event in hand. Today: its owner. Shared lists will widen both together.
 */
export function eventAudience(event: { userId: string }): readonly string[] {
  return [event.userId];
}
