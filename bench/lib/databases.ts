// Fresh, disposable databases for a benchmark: embedded PGlite in a new temp directory,
// and PostgreSQL (a new `taskflow_bench_<pid>` database) when DATABASE_URL names a server
// whose user may CREATE DATABASE. `drop()` removes every trace, whatever the run did.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export type BenchDatabaseKind = 'pglite' | 'postgres';

export interface BenchDatabase {
  kind: BenchDatabaseKind;
  /** Environment entries (DATA_DIR or DATABASE_URL) that point an app at it. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** The kinds this run can measure: PGlite always, PostgreSQL when an admin URL is given. */
export function availableKinds(adminUrl: string | undefined): BenchDatabaseKind[] {
  return adminUrl ? ['pglite', 'postgres'] : ['pglite'];
}

export async function createBenchDatabase(kind: BenchDatabaseKind, adminUrl: string | undefined): Promise<BenchDatabase> {
  if (kind === 'pglite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'taskflow-bench-'));
    return { kind, env: { DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  if (!adminUrl) throw new Error('DATABASE_URL is needed for the PostgreSQL benchmark');
  const name = `taskflow_bench_${process.pid}`;
  // A leftover from a killed run with the same pid would make CREATE fail.
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    env: { DATABASE_URL: url.toString() },
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** Runs `fn` on a fresh database of `kind` and drops it afterwards, also on failure. */
export async function withBenchDatabase<T>(
  kind: BenchDatabaseKind,
  adminUrl: string | undefined,
  fn: (database: BenchDatabase) => Promise<T>,
): Promise<T> {
  const database = await createBenchDatabase(kind, adminUrl);
  try {
    return await fn(database);
  } finally {
    await database.drop();
  }
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}
