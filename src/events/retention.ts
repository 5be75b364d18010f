// Event retention (EVENT_RETENTION_DAYS): events older than the cutoff AND already handled
// by every consumer move to events_archive in bounded batches, keeping the hot table and
// its indexes small. Archived events stay readable (history reads both tables).

import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/tables.js';
import { EVENT_COLUMNS } from './types.js';

const BATCH = 5000;
const COLUMNS = sql.raw(EVENT_COLUMNS.join(', '));

/** Moves eligible events to the archive; returns how many moved. */
export async function archiveEvents(db: Kysely<DB>, cutoff: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const moved = await db.transaction().execute(async (tx) => {
      const result = await sql<{ n: number }>`
        WITH horizon AS (
          SELECT tx_id, seq FROM consumer_checkpoints ORDER BY tx_id, seq LIMIT 1
        ), batch AS (
          SELECT seq FROM events e
          WHERE e.occurred_at < ${cutoff}
            AND (NOT EXISTS (SELECT 1 FROM horizon) OR (e.tx_id, e.seq) <= (SELECT tx_id, seq FROM horizon))
          ORDER BY seq
          LIMIT ${BATCH}
        ), moved AS (
          DELETE FROM events WHERE seq IN (SELECT seq FROM batch) RETURNING *
        ), archived AS (
          INSERT INTO events_archive (${COLUMNS}) SELECT ${COLUMNS} FROM moved
          RETURNING 1
        )
        SELECT count(*)::int AS n FROM archived`.execute(tx);
      return result.rows[0]?.n ?? 0;
    });
    total += moved;
    if (moved < BATCH) return total;
  }
}
