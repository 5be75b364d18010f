// The search capability's surface. `findTasks` answers GET /tasks: it folds the URL filters,
// the filter expression, a saved view's filter and the full-text `q` into ONE Filter tree,
// picks the sort, decodes the cursor, and runs task-query.ts. `parseFilterField` validates a
// filter expression for whoever stores one (saved views). No Fastify, no transactions.
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { DB } from '../db/tables.js';
import { ValidationFailed } from '../errors.js';
import type { Actor } from '../events/types.js';
import type { ListTasksQuery } from '../tasks/schema.js';
import { tsquerySql } from './conditions.js';
import {
  allOf,
  type Bound,
  type Filter,
  mentionsCompletion,
  needsTimeZone,
  nextDay,
  onDate,
  positiveTextQueries,
  type Range,
  today,
} from './filter.js';
import { FilterSyntaxError, parseFilterExpression } from './filter-expression.js';
import type { SearchMatch } from './schema.js';
import { DEFAULT_ORDER, decodePageCursor, encodePageCursor, queryFingerprint, type SortName, type SortOrder } from './sort.js';
import { ANGLE_BRACKETS, MARK_END, MARK_START, type TaskPageRow, taskPageSql } from './task-query.js';

/** What a saved view contributes to a list query. */
export interface ViewSpec {
  filter: string;
  sort: SortName | null;
  order: SortOrder | null;
}

export interface FoundTask {
  row: TaskPageRow;
  search?: SearchMatch;
}

export interface TaskPage {
  items: FoundTask[];
  nextCursor: string | null;
}

/** Parses a filter expression given as `field`; a syntax error is a 422 naming the field and column. */
export function parseFilterField(text: string, field: string): Filter | null {
  try {
    return parseFilterExpression(text);
  } catch (err) {
    if (!(err instanceof FilterSyntaxError)) throw err;
    throw new ValidationFailed(`Invalid filter: ${err.message}`, {
      errors: [{ field, message: err.message }],
      extra: { column: err.column },
    });
  }
}

/** One page of the tasks `actor` may see that match `query` (and `view`), at `now`. */
export async function findTasks(
  db: Kysely<DB>,
  actor: Actor,
  query: ListTasksQuery,
  now: Date,
  view: ViewSpec | null = null,
): Promise<TaskPage> {
  const parts = urlFilters(query);
  const expression = query.filter ? parseFilterField(query.filter, 'query.filter') : null;
  if (expression) parts.push(expression);
  const viewFilter = view?.filter ? parseFilterField(view.filter, 'view.filter') : null;
  if (viewFilter) parts.push(viewFilter);
  const filter = allOf(parts);

  const rankQuery = combineTextQueries(positiveTextQueries(filter));
  const sort: SortName = query.sort ?? view?.sort ?? (rankQuery && !isFirstKeystrokes(query) ? 'rank' : 'created');
  const order: SortOrder = query.order ?? (query.sort ? null : view?.order) ?? DEFAULT_ORDER[sort];
  if (sort === 'rank' && !rankQuery) {
    throw new ValidationFailed('Sorting by rank needs a search', {
      errors: [{ field: 'query.sort', message: 'rank needs q (or a search: term) with at least one word' }],
    });
  }
  const status = query.status ?? (mentionsCompletion(filter) ? 'all' : 'open');
  const statuses = status === 'all' ? (['open', 'completed'] as const) : [status];
  const fingerprint = queryFingerprint({ filter, statuses, list: query.list_id ?? null });
  const after = query.cursor ? decodePageCursor(query.cursor, { sort, order, query: fingerprint }) : null;
  const timeZone = needsTimeZone(filter) ? await readerTimeZone(db, actor.userId) : 'UTC';

  const rows = await taskPageSql(db, {
    userId: actor.userId,
    listId: query.list_id,
    statuses,
    filter,
    context: { now, timeZone },
    sort,
    order,
    limit: query.limit,
    after,
    rankQuery,
  })
    .execute(db)
    .then((r) => r.rows);

  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => (rankQuery ? { row, search: searchMatch(row) } : { row })),
    nextCursor:
      rows.length > query.limit && last
        ? encodePageCursor({ sort, order, key: last.sort_key, id: last.id, query: fingerprint })
        : null,
  };
}

/** The URL's filter parameters as Filter terms (all of them must hold). */
function urlFilters(query: ListTasksQuery): Filter[] {
  const filters: Filter[] = [];
  const tag = (name: string): Filter => ({ kind: 'tag', name });
  if (query.q?.trim()) filters.push({ kind: 'text', query: query.q });
  if (query.priority) filters.push({ kind: 'priority', priorities: query.priority });
  if (query.tag?.length) filters.push({ kind: 'any', of: query.tag.map(tag) });
  if (query.tag_all?.length) filters.push(...query.tag_all.map(tag));
  if (query.tag_none?.length) filters.push({ kind: 'not', filter: { kind: 'any', of: query.tag_none.map(tag) } });
  if (query.tagged === 'false') filters.push({ kind: 'untagged' });
  if (query.tagged === 'true') filters.push({ kind: 'not', filter: { kind: 'untagged' } });
  if (query.due) filters.push(DUE_PRESETS[query.due]);
  if (query.recurring) filters.push(flag({ kind: 'recurring' }, query.recurring));
  if (query.has_reminder) filters.push(flag({ kind: 'reminded' }, query.has_reminder));
  const due = range(query.due_from, query.due_to);
  if (due) filters.push({ kind: 'due', range: due });
  const created = range(query.created_from, query.created_to);
  if (created) filters.push({ kind: 'created', range: created });
  const completed = range(query.completed_from, query.completed_to);
  if (completed) filters.push({ kind: 'completed', range: completed });
  return filters;
}

const flag = (filter: Filter, value: 'true' | 'false'): Filter => (value === 'true' ? filter : { kind: 'not', filter });

const DUE_PRESETS: Record<NonNullable<ListTasksQuery['due']>, Filter> = {
  overdue: { kind: 'overdue' },
  none: { kind: 'undated' },
  today: { kind: 'due', range: { from: { day: today(0) }, until: { day: today(1) } } },
  tomorrow: { kind: 'due', range: { from: { day: today(1) }, until: { day: today(2) } } },
  next_7_days: { kind: 'due', range: { from: { day: today(0) }, until: { day: today(7) } } },
};

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** `from`/`to` parameters: days are inclusive (to = the start of the next day); instants as given. */
function range(from: string | undefined, to: string | undefined): Range | null {
  if (!from && !to) return null;
  const bound = (value: string, isEnd: boolean): Bound => {
    if (!DATE_ONLY.test(value)) return { instant: value };
    const day = onDate(value);
    return { day: isEnd ? nextDay(day) : day };
  };
  return { ...(from ? { from: bound(from, false) } : {}), ...(to ? { until: bound(to, true) } : {}) };
}

/**
 * `q` of one or two characters and nothing else: the first keystrokes of search-as-you-type.
 * Its prefix matches tens of thousands of tasks in a large account, and ranking all of them
 * (exact ranking must score every match) took 25-50 ms for an order that means little at one
 * letter; newest first comes from an index. From the third character on, best match first.
 * An explicit sort=rank still ranks.
 */
function isFirstKeystrokes(query: ListTasksQuery): boolean {
  return query.q !== undefined && query.q.trim().length < 3 && !query.filter;
}

/** Every positive text search, OR-ed: what rank and highlights measure against. */
function combineTextQueries(texts: string[]): RawBuilder<unknown> | null {
  const queries = texts.map(tsquerySql).filter((q): q is RawBuilder<unknown> => q !== null);
  if (queries.length === 0) return null;
  return queries.length === 1 ? (queries[0] as RawBuilder<unknown>) : sql`(${sql.join(queries, sql` || `)})`;
}

async function readerTimeZone(db: Kysely<DB>, userId: string): Promise<string> {
  const row = await db.selectFrom('users').select('time_zone').where('id', '=', userId).executeTakeFirst();
  return row?.time_zone ?? 'UTC';
}

function searchMatch(row: TaskPageRow): SearchMatch {
  return {
    rank: row.rank ?? 0,
    title: markedHtml(row.title_highlight ?? row.title),
    snippet: markedHtml(row.description_snippet ?? ''),
  };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** ts_headline output → safe HTML: everything escaped, then the match marks become <mark>. */
export function markedHtml(text: string): string {
  return text
    .replaceAll(ANGLE_BRACKETS[0] as string, '<')
    .replaceAll(ANGLE_BRACKETS[1] as string, '>')
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string)
    .replaceAll(MARK_START, '<mark>')
    .replaceAll(MARK_END, '</mark>');
}
