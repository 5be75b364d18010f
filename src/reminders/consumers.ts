// The reminder capability's consumers, for the one registry in events/consumers.ts.
import type { Clock } from '../clock.js';
import type { Consumer } from '../events/consumer.js';
import { type DeliveryOptions, inboxConsumer, pushConsumer, webhookConsumer } from './delivery.js';
import { reminderPlanner } from './planner.js';

export interface ReminderConsumerDeps {
  clock: Clock;
  delivery: DeliveryOptions;
}

export function reminderConsumers(deps: ReminderConsumerDeps): Consumer[] {
  return [reminderPlanner(deps.clock), inboxConsumer(), webhookConsumer(deps.delivery), pushConsumer(deps.delivery)];
}
