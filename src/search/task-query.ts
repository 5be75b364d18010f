// The one query behind every task list, filter and search: a keyset page of the tasks the
// reader may see (lists/access.ts), filtered by a `Filter`, in one of six sort orders.
//
// Shape (top-N per partition, then merge): for each accessible list, a LATERAL subquery
// takes the first `limit + 1` rows of each (status × due-is-null) partition straight off a
// (list_id, status, <sort key>, id) index, after the cursor; the outer query merges those
// few rows and cuts the page; only then are tags, highlights and the cursor key computed.
// One ordered index range per partition, so a page costs the same at 100 tasks or 100k,
// for any number of lists (shared lists later) and both directions. Splitting on
// `due_key IS NULL` is what puts undated tasks last in both directions with one index.
// Selective filters (a rare tag, a search word) let the planner start from their own
// index instead, inside the same subquery. Plans: docs/search-explain.md.
import { type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { type DB, TASK_COLUMNS, type TaskRow } from '../db/tables.js';
import { accessibleListIds } from '../lists/access.js';
import { taskTagNamesSql } from '../tags/service.js';
import { type FilterContext, filterSql } from './conditions.js';
import type { Filter } from './filter.js';
import type { PageCursor, SortName, SortOrder } from './sort.js';

export interface TaskPageSpec {
  userId: string;
  listId?: string | undefined;
  statuses: ReadonlyArray<'open' | 'completed'>;
  filter: Filter;
  context: FilterContext;
  sort: SortName;
  order: SortOrder;
  limit: number;
  after: PageCursor | null;
  /** The tsquery that ranks and highlights (all positive text searches), if any. */
  rankQuery: RawBuilder<unknown> | null;
}

export type TaskPageRow = TaskRow & {
  tags: string[];
  /** The sort key in the text form the cursor carries. */
  sort_key: string | null;
  rank: number | null;
  title_highlight: string | null;
  description_snippet: string | null;
};

// Marks around highlighted words: control characters no title is expected to contain, so
// the caller can HTML-escape the text and only then turn them into <mark> tags. ts_headline
// would also drop anything that looks like an HTML tag ("<b>"); angle brackets go in as two
// more control characters and come back out (service.ts), so the text survives verbatim.
export const MARK_START = '\u0002';
export const MARK_END = '\u0003';
export const ANGLE_BRACKETS = '\u0004\u0005';
const TITLE_HEADLINE = `HighlightAll=true, StartSel=${MARK_START}, StopSel=${MARK_END}`;
const SNIPPET_HEADLINE = `MaxFragments=2, MaxWords=18, MinWords=6, FragmentDelimiter=" … ", StartSel=${MARK_START}, StopSel=${MARK_END}`;
// ts_headline re-parses the text; a 20 000-character description would cost milliseconds.
const SNIPPET_SOURCE_CHARS = 5000;

/** The sort key expression on `tasks`, as the matching index has it. */
function sortKey(sort: SortName, rankQuery: RawBuilder<unknown> | null): RawBuilder<unknown> {
  switch (sort) {
    case 'due':
      return sql`tasks.due_key`;
    case 'priority':
      return sql`tasks.priority`;
    case 'created':
      return sql`tasks.created_at`;
    case 'updated':
      return sql`tasks.updated_at`;
    case 'title':
      return sql`(lower(tasks.title) COLLATE "C")`;
    case 'rank':
      return sql`ts_rank(tasks.search_vector, ${rankQuery ?? sql`''::tsquery`})`;
  }
}

/** The cursor's text key back as a value of the sort key's type. */
function keyParameter(sort: SortName, key: string): RawBuilder<unknown> {
  switch (sort) {
    case 'due':
    case 'created':
    case 'updated':
      return sql`${key}::timestamptz`;
    case 'priority':
      return sql`${Number(key)}::smallint`;
    case 'title':
      return sql`(${key}::text COLLATE "C")`;
    case 'rank':
      return sql`${key}::real`;
  }
}

/** The sort key of a merged row (column `sort_value`) as the text a cursor carries. */
function keyText(sort: SortName): RawBuilder<string | null> {
  return sort === 'due' || sort === 'created' || sort === 'updated'
    ? sql`to_char(page.sort_value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
    : sql`page.sort_value::text`;
}

interface Partition {
  status: 'open' | 'completed';
  /** For the due sort: the rows with a due date, or those without. */
  dated?: boolean;
}

function partitions(spec: TaskPageSpec): Partition[] {
  return spec.statuses.flatMap((status): Partition[] => {
    if (spec.sort !== 'due') return [{ status }];
    // A cursor already among the undated rows: the dated ones are all behind it.
    return spec.after && spec.after.key === null
      ? [{ status, dated: false }]
      : [
          { status, dated: true },
          { status, dated: false },
        ];
  });
}

function branchSql(spec: TaskPageSpec, partition: Partition): RawBuilder<unknown> {
  const key = sortKey(spec.sort, spec.rankQuery);
  const dir = sql.raw(spec.order === 'asc' ? 'ASC' : 'DESC');
  const after = sql.raw(spec.order === 'asc' ? '>' : '<');
  const where: RawBuilder<SqlBool>[] = [
    sql<SqlBool>`tasks.list_id = l.list_id`,
    // A literal, not a parameter: the search/tag GIN indexes are partial per status
    // (migration 0007), and only a constant lets every plan, generic ones included, use them.
    sql<SqlBool>`tasks.status = ${sql.lit(partition.status)}`,
    filterSql(spec.filter, spec.context),
  ];
  if (spec.sort === 'rank') return rankedBranchSql(spec, where);
  // Among undated rows due_key is constant (NULL), but the planner only walks the index in
  // order when ORDER BY names the index's columns, so it stays in the ORDER BY.
  const order = sql`${key} ${dir}, tasks.id ${dir}`;
  if (partition.dated === false) {
    where.push(sql<SqlBool>`tasks.due_key IS NULL`);
    if (spec.after?.key === null) where.push(sql<SqlBool>`tasks.id ${after} ${spec.after.id}`);
  } else {
    if (partition.dated) where.push(sql<SqlBool>`tasks.due_key IS NOT NULL`);
    if (spec.after && spec.after.key !== null) {
      where.push(sql<SqlBool>`(${key}, tasks.id) ${after} (${keyParameter(spec.sort, spec.after.key)}, ${spec.after.id}::uuid)`);
    }
  }
  return sql`SELECT * FROM (
    SELECT tasks.id, ${key} AS sort_value
    FROM tasks
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${order}
    LIMIT ${spec.limit + 1}) AS part`;
}

/**
 * Best match first: every match must be ranked to find the best, so ts_rank is computed
 * exactly once per match. The fence (OFFSET 0 keeps the subquery from being flattened) is
 * what makes it once: flattened, the planner would copy the expression into the cursor
 * condition and the select list and evaluate it two or three times per match (twice cost a
 * third of a one-word search's server time at 100k tasks: docs/search-explain.md).
 */
function rankedBranchSql(spec: TaskPageSpec, where: RawBuilder<SqlBool>[]): RawBuilder<unknown> {
  const dir = sql.raw(spec.order === 'asc' ? 'ASC' : 'DESC');
  const after = sql.raw(spec.order === 'asc' ? '>' : '<');
  // A rank key is never null (the cursor of an undated row exists only for the due sort).
  const cursor =
    spec.after && spec.after.key !== null
      ? sql`WHERE (scored.sort_value, scored.id) ${after} (${keyParameter('rank', spec.after.key)}, ${spec.after.id}::uuid)`
      : sql``;
  return sql`SELECT * FROM (
    SELECT scored.id, scored.sort_value FROM (
      SELECT tasks.id, ${sortKey('rank', spec.rankQuery)} AS sort_value
      FROM tasks
      WHERE ${sql.join(where, sql` AND `)}
      OFFSET 0) AS scored
    ${cursor}
    ORDER BY scored.sort_value ${dir}, scored.id ${dir}
    LIMIT ${spec.limit + 1}) AS part`;
}

export function taskPageSql(db: Kysely<DB>, spec: TaskPageSpec): RawBuilder<TaskPageRow> {
  let lists = accessibleListIds(db, spec.userId);
  if (spec.listId) lists = lists.where('list_members.list_id', '=', spec.listId);
  const dir = sql.raw(spec.order === 'asc' ? 'ASC' : 'DESC');
  const pageOrder = (alias: string) => {
    const value = sql.ref(`${alias}.sort_value`);
    const id = sql.ref(`${alias}.id`);
    if (spec.sort === 'due') return sql`${value} IS NULL, ${value} ${dir}, ${id} ${dir}`;
    if (spec.sort === 'title') return sql`${value} COLLATE "C" ${dir}, ${id} ${dir}`;
    return sql`${value} ${dir}, ${id} ${dir}`;
  };
  const branches = partitions(spec).map((p) => branchSql(spec, p));
  // Rank and highlights of the page's rows only (a rank sort already has the rank as its key).
  const rank =
    spec.sort === 'rank'
      ? sql`page.sort_value`
      : spec.rankQuery
        ? sql`ts_rank(tasks.search_vector, ${spec.rankQuery})`
        : sql`NULL::real`;
  const highlights = spec.rankQuery
    ? sql`ts_headline('english', translate(tasks.title, '<>', ${ANGLE_BRACKETS}), ${spec.rankQuery}, ${TITLE_HEADLINE})
            AS title_highlight,
          CASE WHEN tasks.description = '' THEN '' ELSE ts_headline('english',
            translate(left(tasks.description, ${SNIPPET_SOURCE_CHARS}), '<>', ${ANGLE_BRACKETS}),
            ${spec.rankQuery}, ${SNIPPET_HEADLINE}) END AS description_snippet`
    : sql`NULL AS title_highlight, NULL AS description_snippet`;
  return sql<TaskPageRow>`
    SELECT ${sql.join(TASK_COLUMNS.map((c) => sql.ref(`tasks.${c}`)))}, ${taskTagNamesSql} AS tags,
      ${keyText(spec.sort)} AS sort_key, ${rank} AS rank, ${highlights}
    FROM (
      SELECT merged.* FROM (${lists}) AS l
      CROSS JOIN LATERAL (${sql.join(branches, sql` UNION ALL `)}) AS merged
      ORDER BY ${pageOrder('merged')}
      LIMIT ${spec.limit + 1}
    ) AS page
    JOIN tasks ON tasks.id = page.id
    ORDER BY ${pageOrder('page')}`;
}
