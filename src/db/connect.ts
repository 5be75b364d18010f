// Opens the one database TaskFlow runs on: a real PostgreSQL when DATABASE_URL is set,
// otherwise embedded PGlite in DATA_DIR. Both are driven through the same Kysely dialect
// (see pglite-pool.ts) and return values of the same JS types, so nothing above this
// module knows which one it talks to, except for LISTEN, which each does its own way.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { PGlitePool } from './pglite-pool.js';
import type { DB } from './tables.js';

export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Kysely<DB>;
  /** Subscribes to NOTIFY on a channel; returns the unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  /** Pool statistics for /metrics (PGlite reports its single connection). */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

// Type OIDs whose default parsing differs between pg and PGlite or loses information.
// int8 stays a string (event seq, counts: no silent precision loss), `date` stays the
// 'YYYY-MM-DD' string it is (pg would turn it into a local-midnight Date).
const INT8 = 20;
const DATE = 1082;
const identity = (v: string) => v;

export interface ConnectOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize: number;
  log: Logger;
}

export async function connectDatabase(options: ConnectOptions): Promise<Database> {
  return options.databaseUrl ? connectPostgres(options.databaseUrl, options) : connectPGlite(options);
}

async function connectPostgres(url: string, { poolSize, log }: ConnectOptions): Promise<Database> {
  const types = {
    getTypeParser: (oid: number, format?: 'text' | 'binary') =>
      oid === INT8 || oid === DATE ? identity : pg.types.getTypeParser(oid, format),
  };
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types, application_name: 'taskflow' });
  pool.on('error', (err) => log.error({ err }, 'idle PostgreSQL client failed'));
  // A checked-out client whose connection drops between queries (server restart, database
  // dropped) emits 'error' with no listener of the pool's: without this the process dies.
  // The query in flight, if any, still rejects and is handled by its caller.
  pool.on('connect', (client) => {
    client.on('error', (err) => log.warn({ err }, 'PostgreSQL connection lost'));
  });
  // Fail fast on a wrong URL instead of on the first request.
  const probe = await pool.connect();
  probe.release();
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });

  return {
    kind: 'postgres',
    db,
    async listen(channel, onNotify) {
      // A dedicated client outside the pool (LISTEN is per session), re-connected with
      // jittered backoff when it drops. A notification is only a hint: after every
      // (re)connect the subscriber is nudged once, since notifications sent while we were
      // away are lost (pg-boss and graphile-worker do the same).
      let client: pg.Client | null = null;
      let stopped = false;
      let attempt = 0;
      const connect = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: url, types });
        c.on('notification', (n) => {
          if (n.channel === channel) onNotify(n.payload ?? '');
        });
        c.on('error', (err) => log.warn({ err, channel }, 'LISTEN connection failed'));
        c.on('end', () => {
          if (stopped) return;
          client = null;
          const delay = Math.min(30_000, 250 * 2 ** attempt++) * (0.5 + Math.random());
          setTimeout(() => void connect().catch(() => undefined), delay).unref();
        });
        await c.connect();
        await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        client = c;
        attempt = 0;
        onNotify('');
      };
      await connect();
      return async () => {
        stopped = true;
        await client?.end().catch(() => undefined);
      };
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => db.destroy(),
  };
}

async function connectPGlite({ dataDir }: ConnectOptions): Promise<Database> {
  const dir = path.resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const releaseLock = lockDataDir(dir);
  try {
    const pglite = await PGlite.create({
      dataDir: dir,
      parsers: { [INT8]: identity, [DATE]: identity },
      // Contrib extensions the migrations create (PostgreSQL ships them; PGlite loads them here).
      extensions: { btree_gin },
    });
    const pool = new PGlitePool(pglite);
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: pool as unknown as pg.Pool }) });
    return {
      kind: 'pglite',
      db,
      async listen(channel, onNotify) {
        return pglite.listen(channel, onNotify);
      },
      poolStats: () => ({ total: 1, idle: pool.idle ? 1 : 0, waiting: pool.waiting }),
      async close() {
        await db.destroy();
        releaseLock();
      },
    };
  } catch (err) {
    releaseLock();
    throw err;
  }
}

/**
 * PGlite does not lock its data directory, and two processes writing one directory
 * corrupt it. A pid file refuses a second opener while the first is alive.
 */
function lockDataDir(dir: string): () => void {
  const lockFile = path.join(dir, 'taskflow.pid');
  try {
    const pid = Number(readFileSync(lockFile, 'utf8'));
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new Error(`DATA_DIR ${dir} is in use by process ${pid}; stop it or choose another DATA_DIR`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  writeFileSync(lockFile, String(process.pid));
  return () => rmSync(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
