// A `Filter` tree as a SQL condition on `tasks`. Every value is a bound parameter. Every
// leaf is NULL-free (true or false, never unknown), so that `!overdue` also keeps the
// tasks with no due date. Dates are resolved here from `now` and the reader's zone.
import { type RawBuilder, type SqlBool, sql } from 'kysely';
import { priorityToRank } from '../tasks/domain.js';
import { overdueAt, type ResolvedRange, resolveRange } from './due-ranges.js';
import type { Filter, Range } from './filter.js';
import { planTextQuery } from './text-query.js';

export interface FilterContext {
  now: Date;
  /** The reader's IANA zone: "today" and day bounds are its days. */
  timeZone: string;
}

// due_key puts an all-day task at the start of its day in the task's (or its owner's) zone,
// which can be up to 26 hours from the same day's start in the reader's zone (UTC-12 vs
// UTC+14). Widening a range on due_key by that much gives an index range that surely holds
// every match; the exact test on due_at/due_date then decides.
const ZONE_SKEW_MS = 26 * 3600_000;

export function filterSql(filter: Filter, context: FilterContext): RawBuilder<SqlBool> {
  switch (filter.kind) {
    case 'all':
      return filter.of.length === 0 ? sql<SqlBool>`true` : joined(filter.of, 'AND', context);
    case 'any':
      return filter.of.length === 0 ? sql<SqlBool>`false` : joined(filter.of, 'OR', context);
    case 'not':
      return sql<SqlBool>`NOT ${filterSql(filter.filter, context)}`;
    case 'priority':
      return sql<SqlBool>`tasks.priority IN (${sql.join(filter.priorities.map(priorityToRank))})`;
    // tag_keys holds the task's tag names lowercased (kept by triggers): the test needs no
    // join, and the per-status GIN indexes (migration 0007) can start from the tag when it
    // is the selective part.
    case 'tag':
      return sql<SqlBool>`tasks.tag_keys @> ARRAY[lower(${filter.name}::text)]`;
    case 'untagged':
      return sql<SqlBool>`tasks.tag_keys = '{}'::text[]`;
    case 'undated':
      return sql<SqlBool>`tasks.due_key IS NULL`;
    case 'recurring':
      return sql<SqlBool>`tasks.recurrence IS NOT NULL`;
    case 'reminded':
      return sql<SqlBool>`EXISTS (
        SELECT 1 FROM reminders WHERE reminders.task_id = tasks.id AND reminders.status = 'pending')`;
    case 'overdue': {
      const { now, today } = overdueAt(context.now, context.timeZone);
      return sql<SqlBool>`(tasks.due_key < ${shift(now, ZONE_SKEW_MS)}
        AND ((tasks.due_at IS NOT NULL AND tasks.due_at < ${now})
          OR (tasks.due_date IS NOT NULL AND tasks.due_date < ${today}::date)))`;
    }
    case 'due':
      return dueSql(resolve(filter.range, context));
    case 'created':
      return instantRangeSql(sql.ref('tasks.created_at'), resolve(filter.range, context));
    case 'completed':
      return instantRangeSql(sql.ref('tasks.completed_at'), resolve(filter.range, context));
    case 'text':
      return textMatchSql(filter.query);
  }
}

/** The tsquery of a search text (see text-query.ts); null when it has no word to search for. */
export function tsquerySql(text: string): RawBuilder<unknown> | null {
  const plan = planTextQuery(text);
  if (plan.matchesNothing) return null;
  const parts: RawBuilder<unknown>[] = [];
  if (plan.websearch !== null) parts.push(sql`websearch_to_tsquery('english', ${plan.websearch})`);
  if (plan.prefix) {
    parts.push(sql`(to_tsquery('english', ${plan.prefix.word}) || to_tsquery('simple', ${plan.prefix.simple}))`);
  }
  return parts.length === 1 ? (parts[0] as RawBuilder<unknown>) : sql`(${sql.join(parts, sql` && `)})`;
}

function textMatchSql(text: string): RawBuilder<SqlBool> {
  const query = tsquerySql(text);
  return query ? sql<SqlBool>`tasks.search_vector @@ ${query}` : sql<SqlBool>`false`;
}

function joined(filters: Filter[], operator: 'AND' | 'OR', context: FilterContext): RawBuilder<SqlBool> {
  const parts = filters.map((f) => filterSql(f, context));
  return sql<SqlBool>`(${sql.join(parts, sql.raw(` ${operator} `))})`;
}

const resolve = (range: Range, context: FilterContext) => resolveRange(range, context.now, context.timeZone);
const shift = (instant: Date, ms: number) => new Date(instant.getTime() + ms);

/** A due range: widened on due_key for the index, exact on due_at (instants) and due_date (days). */
function dueSql(r: ResolvedRange): RawBuilder<SqlBool> {
  const widened: RawBuilder<SqlBool>[] = [sql<SqlBool>`tasks.due_key IS NOT NULL`];
  const timed: RawBuilder<SqlBool>[] = [sql<SqlBool>`tasks.due_at IS NOT NULL`];
  const allDay: RawBuilder<SqlBool>[] = [sql<SqlBool>`tasks.due_date IS NOT NULL`];
  if (r.from) {
    widened.push(sql<SqlBool>`tasks.due_key >= ${shift(r.from, -ZONE_SKEW_MS)}`);
    timed.push(sql<SqlBool>`tasks.due_at >= ${r.from}`);
  }
  if (r.until) {
    widened.push(sql<SqlBool>`tasks.due_key < ${shift(r.until, ZONE_SKEW_MS)}`);
    timed.push(sql<SqlBool>`tasks.due_at < ${r.until}`);
  }
  if (r.fromDate) allDay.push(sql<SqlBool>`tasks.due_date >= ${r.fromDate}::date`);
  if (r.toDate) allDay.push(sql<SqlBool>`tasks.due_date <= ${r.toDate}::date`);
  const and = (parts: RawBuilder<SqlBool>[]) => sql<SqlBool>`(${sql.join(parts, sql` AND `)})`;
  return sql<SqlBool>`(${and(widened)} AND (${and(timed)} OR ${and(allDay)}))`;
}

function instantRangeSql(column: RawBuilder<unknown>, r: ResolvedRange): RawBuilder<SqlBool> {
  const parts: RawBuilder<SqlBool>[] = [sql<SqlBool>`${column} IS NOT NULL`];
  if (r.from) parts.push(sql<SqlBool>`${column} >= ${r.from}`);
  if (r.until) parts.push(sql<SqlBool>`${column} < ${r.until}`);
  return sql<SqlBool>`(${sql.join(parts, sql` AND `)})`;
}
