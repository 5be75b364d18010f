// Contracts of reminders, reminder settings, the notifications inbox and push subscriptions.
import { z } from 'zod';
import { timeZoneSchema } from '../auth/schema.js';
import { parseOffset, SNOOZE_PRESETS } from './durations.js';

const offset = z
  .string()
  .refine((s) => parseOffset(s) !== null, {
    message: 'must be at_due, 5m, 15m, 30m, 1h, 1d, 1w or an ISO-8601 duration such as PT10M (at most a year)',
  })
  .meta({
    description:
      'Before the due time: a preset or an ISO-8601 duration. Days, weeks and months count on the calendar of ' +
      "the task's zone (P1D before 09:00 is 09:00 the day before, across DST too); hours, minutes, seconds are exact",
    example: 'PT15M',
  });
const remindAt = z.iso.datetime({ offset: true, local: true }).meta({
  description: "An absolute time: with its offset or Z, or a local time in time_zone (default: the task's zone)",
  example: '2026-12-01T08:30:00+01:00',
});
const remindAtZone = timeZoneSchema.meta({ description: 'The zone of a local remind_at', example: 'Europe/Berlin' });
const channel = z.enum(['all', 'in_app', 'push', 'webhook']);

export const reminderSchema = z
  .object({
    id: z.uuid(),
    task_id: z.uuid(),
    remind_at: z.iso.datetime(),
    offset: z.string().nullable().meta({ description: 'null: an absolute reminder' }),
    channel,
    status: z.enum(['pending', 'sent', 'cancelled']),
    sent_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    version: z.number().int(),
  })
  .meta({ id: 'Reminder' });
export type ReminderView = z.infer<typeof reminderSchema>;
export const reminderListSchema = z.object({ items: z.array(reminderSchema) });

// One schema for a new reminder, on its own (POST /tasks/{id}/reminders) and in the
// `reminders` of a new task (POST /tasks).
export const createReminderBody = z
  .object({
    offset: offset.optional(),
    remind_at: remindAt.optional(),
    time_zone: remindAtZone.optional(),
    channel: channel.default('all'),
  })
  .strict()
  .refine((b) => (b.offset === undefined) !== (b.remind_at === undefined), {
    message: 'give exactly one of offset and remind_at',
    path: ['offset'],
  })
  .refine((b) => b.time_zone === undefined || b.remind_at !== undefined, {
    message: 'time_zone goes with remind_at',
    path: ['time_zone'],
  });
export type CreateReminderInput = z.infer<typeof createReminderBody>;

export const updateReminderBody = z
  .object({
    offset: offset.optional(),
    remind_at: remindAt.optional(),
    time_zone: remindAtZone.optional(),
    channel: channel.optional(),
  })
  .strict()
  .refine((b) => !(b.offset !== undefined && b.remind_at !== undefined), { message: 'give offset or remind_at, not both' })
  .refine((b) => b.time_zone === undefined || b.remind_at !== undefined, {
    message: 'time_zone goes with remind_at',
    path: ['time_zone'],
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field must be given' });
export type UpdateReminderInput = z.infer<typeof updateReminderBody>;

export const snoozeBody = z.object({ duration: z.enum(SNOOZE_PRESETS) }).strict();

export const listRemindersQuery = z
  .object({
    status: z.enum(['pending', 'sent', 'cancelled']).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();
export type ListRemindersQuery = z.infer<typeof listRemindersQuery>;

export const reminderIdParams = z.object({ id: z.uuid({ message: 'must be a reminder id (uuid)' }) });
export const taskIdParams = z.object({ id: z.uuid({ message: 'must be a task id (uuid)' }) });

export const reminderSettingsSchema = z
  .object({
    default_offset: z.string().nullable(),
    webhook_url: z.string().nullable(),
    /** Shown so the receiver can verify X-TaskFlow-Signature. */
    webhook_secret: z.string().nullable(),
  })
  .meta({ id: 'ReminderSettings' });
export const updateReminderSettingsBody = z
  .object({
    default_offset: offset.nullable().optional().meta({
      description: 'The reminder every new task with a due date gets (unless its request gives `reminders`); null = none',
    }),
    webhook_url: z.url().nullable().optional().meta({ description: 'Where fired reminders are POSTed (HTTPS); null = none' }),
  })
  .strict();
export type UpdateReminderSettingsInput = z.infer<typeof updateReminderSettingsBody>;

export const notificationSchema = z
  .object({
    id: z.uuid(),
    reminder_id: z.uuid(),
    task_id: z.uuid(),
    title: z.string(),
    remind_at: z.iso.datetime(),
    created_at: z.iso.datetime(),
    read: z.boolean(),
    read_at: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Notification' });
export const notificationListSchema = z.object({ items: z.array(notificationSchema), unread: z.number().int() });
export const listNotificationsQuery = z
  .object({
    status: z.enum(['unread', 'read', 'all']).default('all'),
    limit: z.coerce.number().int().min(1).max(200).default(50),
  })
  .strict();
export const notificationIdParams = z.object({ id: z.uuid({ message: 'must be a notification id (uuid)' }) });

export const pushSubscriptionBody = z
  .object({ endpoint: z.url(), keys: z.object({ p256dh: z.string().min(1), auth: z.string().min(1) }) })
  .meta({ description: 'A PushSubscription as the browser serializes it' });
export const pushSubscriptionSchema = z.object({ id: z.uuid(), endpoint: z.string() }).meta({ id: 'PushSubscription' });
export const vapidKeySchema = z.object({ public_key: z.string() });
