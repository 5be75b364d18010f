// HTTP surface of reminders, reminder settings, the notifications inbox and Web Push
// subscriptions: parse with the schemas, call the service, shape the reply.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuthService } from '../auth/service.js';
import { actorOf, authenticateHook } from '../http/authenticate.js';
import { problemSchema } from '../http/problem.js';
import {
  createReminderBody,
  listNotificationsQuery,
  listRemindersQuery,
  notificationIdParams,
  notificationListSchema,
  notificationSchema,
  pushSubscriptionBody,
  pushSubscriptionSchema,
  reminderIdParams,
  reminderListSchema,
  reminderSchema,
  reminderSettingsSchema,
  snoozeBody,
  taskIdParams,
  updateReminderBody,
  updateReminderSettingsBody,
  vapidKeySchema,
} from './schema.js';
import type { ReminderService } from './service.js';

const errors = { 401: problemSchema, 404: problemSchema, 409: problemSchema, 422: problemSchema };

export interface ReminderRouteOptions {
  allowHttpWebhooks: boolean;
  vapidPublicKey: () => Promise<string>;
}

export function reminderRoutes(
  auth: AuthService,
  reminders: ReminderService,
  options: ReminderRouteOptions,
): FastifyPluginAsyncZod {
  return async (app) => {
    app.addHook('onRequest', authenticateHook(auth));
    const tags = ['reminders'];

    app.post(
      '/tasks/:id/reminders',
      {
        schema: {
          tags,
          summary: 'Add a reminder to a task',
          description:
            'Relative (`offset` before the due time: at_due, 5m, 15m, 30m, 1h, 1d, 1w or an ISO-8601 duration) or absolute (`remind_at`). A time already past fires at once, once.',
          params: taskIdParams,
          body: createReminderBody,
          response: { 201: reminderSchema, ...errors },
        },
      },
      async (request, reply) => {
        const reminder = await reminders.createReminder(actorOf(request), request.params.id, request.body);
        return reply.code(201).header('location', `/api/v1/reminders/${reminder.id}`).send(reminder);
      },
    );

    app.get(
      '/tasks/:id/reminders',
      { schema: { tags, summary: "A task's reminders", params: taskIdParams, response: { 200: reminderListSchema, ...errors } } },
      async (request) => ({ items: await reminders.listTaskReminders(actorOf(request), request.params.id) }),
    );

    app.get(
      '/reminders',
      {
        schema: {
          tags,
          summary: 'Your reminders across tasks, by time',
          querystring: listRemindersQuery,
          response: { 200: reminderListSchema, ...errors },
        },
      },
      async (request) => ({ items: await reminders.listReminders(actorOf(request), request.query) }),
    );

    app.get(
      '/reminders/:id',
      { schema: { tags, summary: 'One reminder', params: reminderIdParams, response: { 200: reminderSchema, ...errors } } },
      async (request) => reminders.getReminder(actorOf(request), request.params.id),
    );

    app.patch(
      '/reminders/:id',
      {
        schema: {
          tags,
          summary: 'Re-time a reminder or change its channel',
          params: reminderIdParams,
          body: updateReminderBody,
          response: { 200: reminderSchema, ...errors },
        },
      },
      async (request) => reminders.updateReminder(actorOf(request), request.params.id, request.body),
    );

    app.delete(
      '/reminders/:id',
      { schema: { tags, summary: 'Delete a reminder', params: reminderIdParams, response: { 204: z.void(), ...errors } } },
      async (request, reply) => {
        await reminders.deleteReminder(actorOf(request), request.params.id);
        return reply.code(204).send();
      },
    );

    app.post(
      '/reminders/:id/snooze',
      {
        schema: {
          tags,
          summary: 'Snooze a reminder: fire again in 5m, 15m, 1h, or at 09:00 tomorrow (your time zone)',
          params: reminderIdParams,
          body: snoozeBody,
          response: { 200: reminderSchema, ...errors },
        },
      },
      async (request) => reminders.snoozeReminder(actorOf(request), request.params.id, request.body.duration),
    );

    app.get(
      '/reminder-settings',
      { schema: { tags, summary: 'Your default reminder and webhook', response: { 200: reminderSettingsSchema, ...errors } } },
      async (request) => reminders.getSettings(actorOf(request)),
    );

    app.patch(
      '/reminder-settings',
      {
        schema: {
          tags,
          summary: 'Set your default reminder (applied to new tasks with a due date) and webhook URL',
          description:
            '`default_offset` (a preset such as 15m or 1d, or an ISO-8601 duration; null = none) is the reminder ' +
            "POST /tasks creates, in the task's transaction, for every task you create with a due date or time " +
            'whose request gives no `reminders` (and whose quick-add text asks for none); `reminders: []` opts one ' +
            'task out. Existing tasks keep their reminders. Fields left out stay as they are. ' +
            'The webhook secret is generated once; verify X-TaskFlow-Signature (t=…,v1=HMAC-SHA256(secret, "t.body")).',
          body: updateReminderSettingsBody,
          response: { 200: reminderSettingsSchema, ...errors },
        },
      },
      async (request) =>
        reminders.updateSettings(actorOf(request), request.body, { allowHttpWebhooks: options.allowHttpWebhooks }),
    );

    app.get(
      '/notifications',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Your inbox of fired reminders, newest first',
          querystring: listNotificationsQuery,
          response: { 200: notificationListSchema, ...errors },
        },
      },
      async (request) => reminders.listNotifications(actorOf(request), request.query),
    );

    app.post(
      '/notifications/:id/read',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Mark a notification read',
          params: notificationIdParams,
          response: { 200: notificationSchema, ...errors },
        },
      },
      async (request) => reminders.markNotificationRead(actorOf(request), request.params.id),
    );

    app.post(
      '/notifications/read-all',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Mark every notification read',
          response: { 200: z.object({ marked: z.number().int() }), ...errors },
        },
      },
      async (request) => ({ marked: await reminders.markAllNotificationsRead(actorOf(request)) }),
    );

    app.get(
      '/push/vapid-public-key',
      {
        schema: {
          tags: ['notifications'],
          summary: 'The VAPID public key for PushManager.subscribe',
          response: { 200: vapidKeySchema },
        },
      },
      async () => ({ public_key: await options.vapidPublicKey() }),
    );

    app.post(
      '/push/subscriptions',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Register a browser push subscription',
          body: pushSubscriptionBody,
          response: { 201: pushSubscriptionSchema, ...errors },
        },
      },
      async (request, reply) => reply.code(201).send(await reminders.addPushSubscription(actorOf(request), request.body)),
    );

    app.delete(
      '/push/subscriptions/:id',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Remove a push subscription',
          params: reminderIdParams,
          response: { 204: z.void(), ...errors },
        },
      },
      async (request, reply) => {
        await reminders.removePushSubscription(actorOf(request), request.params.id);
        return reply.code(204).send();
      },
    );
  };
}
