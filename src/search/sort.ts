// Sort orders and keyset cursors of task lists. A cursor is the last row's sort key and id
// (the tie break), so the next page starts strictly after that row whatever was inserted
// or deleted meanwhile; it also names its sort, order and a fingerprint of the query, and a
// cursor used with another query is refused (422 on query.cursor) rather than misread.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ValidationFailed } from '../errors.js';

export const SORTS = ['due', 'priority', 'created', 'updated', 'title', 'rank'] as const;
export type SortName = (typeof SORTS)[number];
export type SortOrder = 'asc' | 'desc';

/** The natural direction of each sort: soonest due, most urgent, newest, A→Z, best match. */
export const DEFAULT_ORDER: Record<SortName, SortOrder> = {
  due: 'asc',
  priority: 'desc',
  created: 'desc',
  updated: 'desc',
  title: 'asc',
  rank: 'desc',
};

export interface PageCursor {
  sort: SortName;
  order: SortOrder;
  /** The sort key of the last row, in its SQL text form; null = no due date (sorted last). */
  key: string | null;
  id: string;
  /** Fingerprint of the query the cursor belongs to. */
  query: string;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const KEY_SHAPE: Record<SortName, z.ZodType<string | null>> = {
  due: z.string().regex(INSTANT).nullable(),
  created: z.string().regex(INSTANT),
  updated: z.string().regex(INSTANT),
  priority: z.string().regex(/^[0-4]$/),
  title: z.string().max(2000),
  rank: z.string().regex(/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i),
};

const cursorShape = z.object({
  s: z.enum(SORTS),
  o: z.enum(['asc', 'desc']),
  k: z.string().nullable(),
  i: z.uuid(),
  q: z.string(),
});

export function encodePageCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify({ s: c.sort, o: c.order, k: c.key, i: c.id, q: c.query })).toString('base64url');
}

/** Decodes a cursor for this sort, order and query; anything else is the client's mistake (422). */
export function decodePageCursor(text: string, expected: { sort: SortName; order: SortOrder; query: string }): PageCursor {
  let cursor: PageCursor;
  try {
    const raw = cursorShape.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    cursor = { sort: raw.s, order: raw.o, key: KEY_SHAPE[raw.s].parse(raw.k), id: raw.i, query: raw.q };
  } catch {
    throw invalidCursor('is malformed');
  }
  if (cursor.sort !== expected.sort || cursor.order !== expected.order || cursor.query !== expected.query) {
    throw invalidCursor('belongs to a different query (filters, search or sort changed); start again without it');
  }
  return cursor;
}

/** A short, stable fingerprint of the parameters that select and order the rows. */
export function queryFingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 12);
}

function invalidCursor(message: string): ValidationFailed {
  return new ValidationFailed(`The cursor ${message}`, { errors: [{ field: 'query.cursor', message }] });
}
