// Contracts of recurrence: the rule a task carries (input and view), presets for the UI,
// the preview and the series view. Validation of the RRULE itself is in rule.ts/engine.ts
// (422 with field `recurrence.rule`); Zod checks only the shape here.
import { z } from 'zod';
import { timeZoneSchema } from '../auth/schema.js';
import { RECURRENCE_MODES } from './engine.js';
import { WEEKDAYS } from './rule.js';

const localKey = z.string().regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/, {
  message: 'must be a local date (2026-12-24) or date-time (2026-12-24T09:00)',
});
const weekday = z.enum(WEEKDAYS);

export const recurrencePresetSchema = z
  .object({
    freq: z.enum(['daily', 'weekdays', 'weekly', 'monthly', 'yearly']),
    interval: z.number().int().min(1).max(1000).optional().meta({ description: 'Every N days/weeks/months/years' }),
    days: z.array(weekday).min(1).max(7).optional().meta({ description: 'weekly: on these days' }),
    month_day: z
      .number()
      .int()
      .min(-31)
      .max(31)
      .refine((n) => n !== 0)
      .optional()
      .meta({ description: 'monthly: day N (-1 = last)' }),
    weekday_of_month: z
      .object({
        n: z
          .number()
          .int()
          .min(-5)
          .max(5)
          .refine((n) => n !== 0),
        day: weekday,
      })
      .optional()
      .meta({ description: 'monthly: the Nth weekday (n=-1: last)' }),
    until: z.iso.date().optional(),
    count: z.number().int().min(1).max(10_000).optional(),
  })
  .strict()
  // Both would be their intersection (the 1st only when it is a Monday): never what was meant.
  .refine((p) => p.month_day === undefined || p.weekday_of_month === undefined, {
    message: 'give month_day or weekday_of_month, not both',
    path: ['month_day'],
  })
  .refine((p) => p.until === undefined || p.count === undefined, {
    message: 'end by until or by count, not both (RFC 5545)',
    path: ['until'],
  });
export type RecurrencePreset = z.infer<typeof recurrencePresetSchema>;

export const recurrenceInputSchema = z
  .object({
    rule: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .meta({ description: 'RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=-1FR', example: 'FREQ=WEEKLY;BYDAY=MO,WE,FR' }),
    preset: recurrencePresetSchema.optional(),
    mode: z
      .enum(RECURRENCE_MODES)
      .default('schedule')
      .meta({ description: 'schedule: after the previous due; after_completion: after completing' }),
    exdates: z.array(localKey).max(200).default([]).meta({ description: 'Local dates/date-times that are not occurrences' }),
    catch_up: z
      .boolean()
      .default(false)
      .meta({ description: 'Completing late: create past occurrences (true) or skip to the next future one' }),
  })
  .strict()
  .refine((r) => (r.rule === undefined) !== (r.preset === undefined), { message: 'give either rule or preset', path: ['rule'] });
export type RecurrenceInput = z.infer<typeof recurrenceInputSchema>;

export const recurrenceSchema = z
  .object({
    rule: z.string(),
    mode: z.enum(RECURRENCE_MODES),
    dtstart: z.string().meta({ description: 'Local first due of the series (DTSTART) in the task’s zone' }),
    exdates: z.array(z.string()),
    catch_up: z.boolean(),
  })
  .meta({ id: 'Recurrence' });

export const previewQuery = z
  .object({
    rule: z.string().min(1).max(500),
    dtstart: localKey.meta({ description: 'Local first due: 2026-12-01 (all day) or 2026-12-01T09:00' }),
    tz: timeZoneSchema.optional().meta({ description: 'IANA zone (default: yours)' }),
    after: localKey.optional().meta({ description: 'Only occurrences after this local date-time' }),
    count: z.coerce.number().int().min(1).max(100).default(10),
  })
  .strict();

export const occurrenceSchema = z.object({
  local: z.string(),
  due_date: z.string().nullable(),
  due_at: z.string().nullable(),
});

export const previewSchema = z.object({
  rule: z.string().meta({ description: 'The rule in canonical form' }),
  description: z.string(),
  occurrences: z.array(occurrenceSchema),
});

export const seriesIdParams = z.object({ series_id: z.uuid({ message: 'must be a series id (uuid)' }) });
