// Dedupe for consumers with external effects (webhook, broker, push): at-least-once
// delivery becomes effectively-once for the receiver when the handler first claims the
// event id here, in the same transaction that advances its checkpoint.
import type { Tx } from '../db/transaction.js';

/** True if this consumer had not processed the event yet (and now has claimed it). */
export async function claimEventOnce(tx: Tx, consumer: string, eventId: string): Promise<boolean> {
  const row = await tx.q
    .insertInto('processed_events')
    .values({ consumer, event_id: eventId })
    .onConflict((oc) => oc.doNothing())
    .returning('event_id')
    .executeTakeFirst();
  return row !== undefined;
}
