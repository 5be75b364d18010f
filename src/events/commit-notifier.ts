// Wakes the event tailers of OTHER processes (consumers, real-time hubs) after this process
// commits events: `NOTIFY taskflow_events`, sent right after COMMIT from the committing
// process and coalesced (one in flight, at most one more queued behind it).
//
// Why not inside the writing transaction, as DESIGN §1 first said: PostgreSQL makes the
// commits of transactions that sent a NOTIFY take a global queue lock one at a time.
// bench/events measured appendEvents at 3072 events/s without and 1654 with it. The cost of
// moving it out: if the process dies between COMMIT and this NOTIFY, other processes see
// the events at their next safety-net poll (≤ CONSUMER_POLL_INTERVAL_MS) instead of at once.
// PGlite has one process: the in-process nudge of the commit hook is enough there.
//
// The payload is the sending app's origin: its own tailers, already woken in-process (the
// consumer runner with the committed types), ignore the echo instead of waking every slot.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/connect.js';
import type { Logger } from '../observability/logger.js';
import { EVENTS_CHANNEL } from './append-events.js';

/** A fresh origin for one app: what its NOTIFYs carry, and what its own listeners skip. */
export const newNotifyOrigin = (): string => randomUUID();

export function createCommitNotifier(database: Database, log: Logger, origin: string): { nudge(): void } {
  if (database.kind === 'pglite') return { nudge: () => {} };
  let inFlight = false;
  let queued = false;
  const send = (): void => {
    inFlight = true;
    sql`SELECT pg_notify(${EVENTS_CHANNEL}, ${origin})`
      .execute(database.db)
      .catch((err: unknown) => log.warn({ err }, 'NOTIFY after commit failed; tailers fall back to polling'))
      .finally(() => {
        inFlight = false;
        if (queued) {
          queued = false;
          send();
        }
      });
  };
  return {
    nudge() {
      if (inFlight) queued = true;
      else send();
    },
  };
}
