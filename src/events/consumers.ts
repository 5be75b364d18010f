// THE list of event consumers this build runs. Each capability that reacts to events
// (recurrence generator, reminder planner, real-time fan-out, broker relay) adds its
// consumer here, built from the dependencies it needs; nothing registers itself elsewhere.
import type { Consumer } from './consumer.js';

// biome-ignore lint/complexity/noBannedTypes: capabilities add their dependencies here as they arrive.
export type ConsumerDeps = {};

export function builtInConsumers(_deps: ConsumerDeps): Consumer[] {
  return [];
}
