// Tails the whole event log for this process, keeping its position in memory (not a
// checkpointed consumer: every server instance needs every event, and a restarted one has
// no connections to catch up — their clients resume from their own cursors). Starts at the
// log's head, reads with the same xmin gate and (tx_id, seq) order as the consumers, so a
// late commit is never jumped over, and hands each batch to `onEvents` synchronously with
// moving the position: whoever reads `position()` knows exactly which events were handed out.
//
// Wake-up: NOTIFY on taskflow_events (other processes), `nudge()` from the local commit hook,
// and a slow poll as the truth; a burst of notifications collapses into one read. A wake-up
// that finds nothing (the gate holds the new events back) re-checks soon, backing off.
import type { Database } from '../db/connect.js';
import { EVENTS_CHANNEL } from '../events/append-events.js';
import { type Position, readLogAfter, readLogHead } from '../events/read-events.js';
import type { StoredEvent } from '../events/types.js';
import { createWakeSignal } from '../events/wake-signal.js';
import type { Logger } from '../observability/logger.js';

export interface TailerOptions {
  pollIntervalMs: number;
  batchSize: number;
  /** This app's NOTIFY origin (commit-notifier.ts): its echo is skipped, `nudge` already ran. */
  ownOrigin?: string | undefined;
}

export type LogTailer = ReturnType<typeof createLogTailer>;

const RECHECK_FIRST_MS = 20;

export function createLogTailer(deps: {
  database: Database;
  log: Logger;
  options: TailerOptions;
  onEvents: (events: StoredEvent[]) => void;
}) {
  const { database, log, options } = deps;
  let position: Position | null = null;
  let running = false;
  let loop: Promise<void> | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  const wake = createWakeSignal();
  const nudge = (): void => wake.nudge();
  let failures = 0;

  const sleep = (ms: number): Promise<void> => (running ? wake.sleep(ms) : Promise.resolve());

  /** Reads and hands out one batch; returns its size. */
  async function readBatch(from: Position): Promise<number> {
    const events = await readLogAfter(database.db, from, options.batchSize);
    const last = events.at(-1);
    if (!running || !last) return 0;
    // Together, in one tick: a subscriber registering now sees either all of the batch
    // live, or none of it (and then reads it from the log itself).
    position = { txId: last.txId, seq: last.seq };
    deps.onEvents(events);
    return events.length;
  }

  async function runLoop(): Promise<void> {
    // > 0 while a wake-up announced events that the xmin gate still holds back (another
    // transaction is open): look again soon, backing off to the poll interval.
    let recheckMs = 0;
    while (running) {
      const woken = wake.clear();
      let read = 0;
      try {
        read = await readBatch(position as Position);
        failures = 0;
        if (read > 0) recheckMs = 0;
        else if (woken) recheckMs = RECHECK_FIRST_MS;
        else if (recheckMs > 0) recheckMs *= 2;
      } catch (err) {
        // The database is away: keep the position, back off (jittered, ≤ 30 s), try again.
        failures++;
        log.warn({ err, failures }, 'real-time tail read failed; retrying');
        await sleep(Math.min(30_000, 100 * 2 ** failures) * (0.5 + Math.random()));
        continue;
      }
      if (read < options.batchSize) {
        await sleep(recheckMs > 0 && recheckMs < options.pollIntervalMs ? recheckMs : options.pollIntervalMs);
      }
    }
  }

  return {
    /** The position of the last event handed out (the log's head at start). */
    position(): Position {
      if (!position) throw new Error('the real-time tailer has not started');
      return position;
    },

    async start(): Promise<void> {
      if (running) return;
      position = await readLogHead(database.db);
      running = true;
      unlisten = await database.listen(EVENTS_CHANNEL, (origin) => {
        if (origin !== options.ownOrigin) nudge();
      });
      loop = runLoop().catch((err) => log.fatal({ err }, 'real-time tail loop crashed'));
    },

    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      wake.nudge();
      await loop;
      await unlisten?.();
      unlisten = null;
    },

    nudge,
  };
}
