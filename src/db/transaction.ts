// The one way to write: `transact(async (tx) => { ...state...; await appendEvents(tx, [...]) })`.
// Runs the callback in a database transaction, retries it on transient SQLSTATEs
// (serialization failure, deadlock), and only after COMMIT tells the app which events
// were appended (metrics, in-process wake-up of consumers on PGlite).
import type { Kysely, Transaction } from 'kysely';
import type { DB } from './tables.js';

export interface Tx {
  /** The query builder bound to this transaction. */
  readonly q: Transaction<DB>;
  /** Events appended so far in this transaction (filled by appendEvents). */
  readonly appended: Array<{ type: string; seq: string }>;
}

export type Transact = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

// SQLSTATEs after which re-running the whole transaction is safe and likely to succeed.
const TRANSIENT = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 4;

export function createTransact(
  db: Kysely<DB>,
  onCommitted: (events: ReadonlyArray<{ type: string; seq: string }>) => void,
): Transact {
  return async function transact<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const appended: Array<{ type: string; seq: string }> = [];
      try {
        const result = await db.transaction().execute((q) => fn({ q, appended }));
        if (appended.length > 0) onCommitted(appended);
        return result;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (!code || !TRANSIENT.has(code) || attempt >= MAX_ATTEMPTS) throw err;
        // Jittered backoff so that the two sides of a deadlock do not collide again.
        await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));
      }
    }
  };
}
