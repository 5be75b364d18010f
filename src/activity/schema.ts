// Contracts of the activity feed, per-task history and revert: one Zod schema per request
// and response shape (validation, types, OpenAPI). Type filters are expanded here to known
// event types, so the service only ever sees an exact list (`type IN (...)`, index-friendly).
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../events/types.js';

/** `task.updated` → itself; `task.*` → every known type under `task.`; unknown → empty. */
export function expandEventType(filter: string): EventType[] {
  if (filter.endsWith('.*')) {
    const prefix = filter.slice(0, -1);
    return EVENT_TYPES.filter((t) => t.startsWith(prefix));
  }
  return EVENT_TYPES.filter((t) => t === filter);
}

const typeFilter = z
  .union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v : [v])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(
        z.string().refine((s) => expandEventType(s).length > 0, {
          message: `must be an event type (${EVENT_TYPES.join(', ')}) or a prefix such as task.*`,
        }),
      )
      .min(1, { message: 'must name at least one event type' })
      .max(50),
  )
  .transform((filters) => [...new Set(filters.flatMap(expandEventType))])
  .meta({ description: 'Event types, comma-separated or repeated; `task.*` matches every task event', example: 'task.*' });

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with Z or an offset' });

export const activityQuery = z
  .object({
    type: typeFilter.optional(),
    task_id: z.uuid({ message: 'must be a task id (uuid)' }).optional(),
    from: instant.optional().meta({ description: 'Only events that occurred at or after this instant' }),
    to: instant.optional().meta({ description: 'Only events that occurred before this instant' }),
    correlation_id: z.string().min(1).max(128).optional().meta({ description: 'The X-Request-Id of the request' }),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(200).optional(),
  })
  .strict();
export type ActivityQuery = z.infer<typeof activityQuery>;

export const activityEntrySchema = z
  .object({
    cursor: z.string().meta({ description: 'Pass as `cursor` to continue after this entry' }),
    seq: z.string().meta({ description: 'Position in the global event log (a 64-bit integer, as a string)' }),
    event_id: z.uuid(),
    type: z.string(),
    occurred_at: z.iso.datetime(),
    actor_id: z.uuid().nullable(),
    aggregate_type: z.string(),
    aggregate_id: z.uuid(),
    aggregate_version: z.number().int(),
    correlation_id: z.string().nullable(),
    causation_id: z.uuid().nullable(),
    data: z.record(z.string(), z.unknown()),
    summary: z.string().meta({ example: 'Changed priority from low to high' }),
  })
  .meta({ id: 'ActivityEntry' });
export type ActivityEntry = z.infer<typeof activityEntrySchema>;

export const activityPageSchema = z.object({
  items: z.array(activityEntrySchema),
  next_cursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next (older) page; null at the end' }),
});
export type ActivityPage = z.infer<typeof activityPageSchema>;

export const taskHistorySchema = z.object({ items: z.array(activityEntrySchema) });

export const taskAtQuery = z.object({ time: instant.meta({ example: '2026-12-01T09:00:00Z' }) }).strict();

export const eventIdParams = z.object({ event_id: z.uuid({ message: 'must be an event id (uuid)' }) });
