// Contracts of the task endpoints: one Zod schema per request and response shape, the
// single source for validation, TypeScript types, OpenAPI and (later) the web client.
import { z } from 'zod';
import { timeZoneSchema } from '../auth/schema.js';
import { recurrenceInputSchema, recurrenceSchema } from '../recurrence/schema.js';
import { createReminderBody } from '../reminders/schema.js';
import { dayOrInstantSchema, orderSchema, searchMatchSchema, sortSchema } from '../search/schema.js';

export const PRIORITIES = ['none', 'low', 'medium', 'high', 'urgent'] as const;
export const prioritySchema = z.enum(PRIORITIES);
export type Priority = z.infer<typeof prioritySchema>;

const LOCAL_OR_OFFSET_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;

/** True when the date-time's calendar fields exist (no 30 February, no 25:00). */
function isRealDateTime(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, sec] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, sec));
  // Date.UTC rolls 30 Feb over to 2 Mar: a real date survives the round trip unchanged.
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && h < 24 && mi < 60 && sec < 60;
}

/** ISO 8601 date-time. With an offset it is an instant; without, local time in `time_zone`. */
export const dueAtSchema = z
  .string()
  .regex(LOCAL_OR_OFFSET_DATETIME, { message: 'must be an ISO 8601 date-time such as 2026-12-01T09:00 or 2026-12-01T09:00:00Z' })
  .refine(isRealDateTime, { message: 'is not a real date-time' })
  .meta({ example: '2026-12-01T09:00' });

export const dueDateSchema = z.iso.date({ message: 'must be a date in the form YYYY-MM-DD' }).meta({ example: '2026-12-01' });

export const tagNameSchema = z
  .string()
  .transform((s) => s.trim().replace(/^#/, ''))
  .pipe(z.string().min(1, { message: 'must not be empty' }).max(100, { message: 'must be at most 100 characters' }));

const title = z.string().trim().min(1, { message: 'must not be empty' }).max(500, { message: 'must be at most 500 characters' });
const description = z.string().max(20_000, { message: 'must be at most 20000 characters' });
const tags = z.array(tagNameSchema).max(50, { message: 'at most 50 tags' });

export const createTaskBody = z
  .object({
    title: title.optional().meta({ description: 'Required unless `quick` is given' }),
    quick: z
      .string()
      .trim()
      .min(1)
      .max(1000)
      .optional()
      .meta({ description: 'Quick-add text ("Pay rent every month on the 1st p1 #finance"); fills the fields not given' }),
    description: description.optional(),
    list_id: z.uuid().optional(),
    due_date: dueDateSchema.nullish(),
    due_at: dueAtSchema.nullish(),
    time_zone: timeZoneSchema.nullish(),
    priority: prioritySchema.optional(),
    tags: tags.optional(),
    recurrence: recurrenceInputSchema.nullish().meta({ description: 'Repeat rule; needs a due date (DTSTART = the due)' }),
    reminders: z
      .array(createReminderBody)
      .max(20, { message: 'at most 20 reminders' })
      .optional()
      .meta({
        description:
          'Reminders created with the task, in its transaction (as POST /tasks/{id}/reminders). Left out: those of ' +
          '`quick` ("remind me 1 day before"), else the default reminder (PATCH /reminder-settings) when the task ' +
          'has a due date; [] for none',
      }),
  })
  .strict()
  .refine((b) => b.title !== undefined || b.quick !== undefined, { message: 'give a title (or quick text)', path: ['title'] });
export type CreateTaskInput = z.infer<typeof createTaskBody>;

export const updateTaskBody = z
  .object({
    title: title.optional(),
    description: description.optional(),
    due_date: dueDateSchema.nullish(),
    due_at: dueAtSchema.nullish(),
    time_zone: timeZoneSchema.nullish(),
    priority: prioritySchema.optional(),
    tags: tags.optional(),
    recurrence: recurrenceInputSchema
      .nullish()
      .meta({ description: 'Set (re-anchored on the due date) or clear (null) the repeat rule' }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field must be given' });
export type UpdateTaskInput = z.infer<typeof updateTaskBody>;

export const taskSchema = z
  .object({
    id: z.uuid(),
    list_id: z.uuid(),
    title: z.string(),
    description: z.string(),
    due_date: z.string().nullable().meta({ description: 'All-day due date (YYYY-MM-DD)' }),
    due_at: z.iso.datetime().nullable().meta({ description: 'Due instant (UTC)' }),
    time_zone: z.string().nullable().meta({ description: 'IANA zone the due time was set in' }),
    priority: prioritySchema,
    tags: z.array(z.string()),
    status: z.enum(['open', 'completed']),
    completed_at: z.iso.datetime().nullable(),
    recurrence: recurrenceSchema.nullable(),
    series_id: z.uuid().nullable().meta({ description: 'The series a recurring instance belongs to (GET /series/{id})' }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    version: z.number().int(),
  })
  .meta({ id: 'Task' });
export type TaskView = z.infer<typeof taskSchema>;

/** A query parameter given once or repeated (`tag=a&tag=b`), as a list. */
const repeated = <T extends z.ZodType<unknown, string>>(item: T, max: number) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(item).max(max, { message: `at most ${max} values` }));

const priorityList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v : [v])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(z.array(prioritySchema).min(1, { message: 'name at least one priority' }).max(5));

// GET /tasks: every filter combines with AND (docs/filters.md). Dates are days in the
// reader's time zone (inclusive) or instants with an offset (`_to` exclusive).
export const listTasksQuery = z
  .object({
    status: z
      .enum(['open', 'completed', 'all'])
      .optional()
      .meta({ description: 'Default: open; all when a completed_* filter or term is given' }),
    list_id: z.uuid().optional(),
    q: z
      .string()
      .max(500, { message: 'must be at most 500 characters' })
      .optional()
      .meta({ description: 'Full-text search: "phrase", -exclude, or; the last word matches as a prefix' }),
    filter: z
      .string()
      .max(2000, { message: 'must be at most 2000 characters' })
      .optional()
      .meta({ description: 'Filter expression, e.g. `(today | overdue) & #work & !p4` (docs/filters.md)' }),
    view_id: z.uuid().optional().meta({ description: 'A saved view: its filter applies too, its sort unless `sort` is given' }),
    priority: priorityList.optional().meta({ description: 'Any of these, comma-separated or repeated' }),
    tag: repeated(tagNameSchema, 20).optional().meta({ description: 'Has any of these tags (repeat the parameter)' }),
    tag_all: repeated(tagNameSchema, 20).optional().meta({ description: 'Has all of these tags' }),
    tag_none: repeated(tagNameSchema, 20).optional().meta({ description: 'Has none of these tags' }),
    tagged: z.enum(['true', 'false']).optional().meta({ description: 'false: only tasks without tags' }),
    due: z.enum(['overdue', 'today', 'tomorrow', 'next_7_days', 'none']).optional(),
    recurring: z.enum(['true', 'false']).optional().meta({ description: 'true: only tasks with a repeat rule' }),
    has_reminder: z.enum(['true', 'false']).optional().meta({ description: 'true: only tasks with a pending reminder' }),
    due_from: dayOrInstantSchema.optional(),
    due_to: dayOrInstantSchema.optional(),
    created_from: dayOrInstantSchema.optional(),
    created_to: dayOrInstantSchema.optional(),
    completed_from: dayOrInstantSchema.optional(),
    completed_to: dayOrInstantSchema.optional(),
    sort: sortSchema.optional().meta({ description: 'Default: rank when searching, else created' }),
    order: orderSchema
      .optional()
      .meta({ description: 'Default per sort: due asc, priority desc, created/updated desc, title asc, rank desc' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(1000).optional(),
  })
  .strict();
export type ListTasksQuery = z.infer<typeof listTasksQuery>;

export const taskListItemSchema = taskSchema
  .extend({ search: searchMatchSchema.optional().meta({ description: 'Present when searching' }) })
  .meta({ id: 'TaskListItem' });
export type TaskListItem = z.infer<typeof taskListItemSchema>;

export const taskPageSchema = z.object({
  items: z.array(taskListItemSchema),
  next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null at the end' }),
});

export const taskIdParams = z.object({ id: z.uuid({ message: 'must be a task id (uuid)' }) });
