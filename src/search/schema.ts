// Contracts shared by everything that filters or sorts tasks: the filter expression field
// (validated by parsing it, so a stored view can never hold one that fails later), sort
// names, date bounds, and the `search` part of a result. Imports nothing from tasks/, so
// that tasks/schema.ts can build GET /tasks's query from these pieces.
import { z } from 'zod';
import { FilterSyntaxError, parseFilterExpression } from './filter-expression.js';
import { SORTS } from './sort.js';

export { SORTS, type SortName, type SortOrder } from './sort.js';

export const sortSchema = z.enum(SORTS).meta({ description: 'rank (best match) needs `q` or a `search:` term' });
export const orderSchema = z.enum(['asc', 'desc']);

/** A filter expression (docs/filters.md); a syntax error names its column. */
export const filterExpressionSchema = z
  .string()
  .max(2000, { message: 'must be at most 2000 characters' })
  .superRefine((text, ctx) => {
    try {
      parseFilterExpression(text);
    } catch (err) {
      if (!(err instanceof FilterSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message, params: { column: err.column } });
    }
  })
  .meta({ example: '(today | overdue) & #work & !p4' });

/** A day (YYYY-MM-DD, in the reader's zone, inclusive) or an instant with an offset. */
export const dayOrInstantSchema = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], {
    message: 'must be a date (YYYY-MM-DD) or a date-time with Z or an offset',
  })
  .meta({ example: '2026-12-01' });

export const searchMatchSchema = z
  .object({
    rank: z.number().meta({ description: 'ts_rank of the task for the search (higher is better)' }),
    title: z.string().meta({ description: 'The title as HTML-escaped text, matches in <mark>' }),
    snippet: z.string().meta({ description: 'Fragments of the description around matches, same markup' }),
  })
  .meta({ id: 'SearchMatch' });
export type SearchMatch = z.infer<typeof searchMatchSchema>;
