// Presents one embedded PGlite instance as the tiny slice of a `pg.Pool` that Kysely's
// PostgresDriver uses, so PGlite and PostgreSQL share one dialect, one compiler and one
// query layer. PGlite has a single connection: `connect()` hands it out to one holder at
// a time (a FIFO mutex), so a transaction never interleaves with another caller's query.
import type { PGlite } from '@electric-sql/pglite';

interface PoolClientLike {
  query(sql: string, params: unknown[]): Promise<{ command: string; rowCount: number; rows: unknown[] }>;
  release(discard?: boolean): void;
}

const commandOf = (sql: string): string => (/^\s*(\w+)/.exec(sql)?.[1] ?? '').toUpperCase();

export class PGlitePool {
  #queue: Array<() => void> = [];
  #busy = false;
  #inTransaction = false;

  constructor(readonly pglite: PGlite) {}

  async connect(): Promise<PoolClientLike> {
    if (this.#busy) await new Promise<void>((resolve) => this.#queue.push(resolve));
    this.#busy = true;
    let released = false;
    return {
      query: async (sql, params) => {
        const command = commandOf(sql);
        // Without parameters use the simple protocol, as pg does: it accepts several
        // statements in one string (migrations), which the extended protocol refuses.
        const result =
          params.length === 0
            ? ((await this.pglite.exec(sql)).at(-1) ?? { rows: [], affectedRows: 0 })
            : await this.pglite.query<Record<string, unknown>>(sql, params);
        if (command === 'BEGIN' || command === 'START') this.#inTransaction = true;
        if (command === 'COMMIT' || command === 'ROLLBACK') this.#inTransaction = false;
        return { command, rowCount: result.affectedRows ?? 0, rows: result.rows };
      },
      release: () => {
        if (released) return;
        released = true;
        // An aborted or abandoned transaction would poison the only connection for every
        // later caller (pg-boss's PGlite adapter makes the same point): roll it back.
        if (this.#inTransaction) {
          this.#inTransaction = false;
          void this.pglite.exec('ROLLBACK').finally(() => this.#handOver());
          return;
        }
        this.#handOver();
      },
    };
  }

  #handOver(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#busy = false;
  }

  get idle(): boolean {
    return !this.#busy;
  }

  get waiting(): number {
    return this.#queue.length;
  }

  async end(): Promise<void> {
    await this.pglite.close();
  }
}
