// THE list of event consumers this build runs. Each capability that reacts to events
// (recurrence generator, reminder planner, real-time fan-out, broker relay) adds its
// consumer here, built from the dependencies it needs; nothing registers itself elsewhere.

import type { Clock } from '../clock.js';
import { recurrenceConsumer } from '../recurrence/consumer.js';
import { type ReminderConsumerDeps, reminderConsumers } from '../reminders/consumers.js';
import type { Consumer } from './consumer.js';

export type ConsumerDeps = {
  /** Reminder planner and delivery (inbox, webhook, Web Push). */
  reminders: ReminderConsumerDeps;
  /** Recurrence generator: the next instance when one is completed. */
  recurrence: { clock: Clock };
};

export function builtInConsumers(deps: ConsumerDeps): Consumer[] {
  return [recurrenceConsumer(deps.recurrence.clock), ...reminderConsumers(deps.reminders)];
}
