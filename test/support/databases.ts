// Where the integration suite gets its databases. One migrated template per run (a PGlite
// data directory, or a PostgreSQL template database); every test app gets a fresh copy,
// so test files never share state and can run in parallel.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export type TestDatabaseKind = 'pglite' | 'postgres';

export const testDatabaseKind = (): TestDatabaseKind => (process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'pglite');

/** The PostgreSQL suite runs when DATABASE_URL is set; under CI it must. */
export function postgresUrl(): string | undefined {
  return process.env.DATABASE_URL || undefined;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function adminQuery(sqlText: string): Promise<void> {
  const url = postgresUrl();
  if (!url) throw new Error('DATABASE_URL is not set');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

export interface DatabaseCopy {
  /** Environment entries that point an app at this copy. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function copyTemplate(template: string): Promise<DatabaseCopy> {
  if (testDatabaseKind() === 'pglite') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'taskflow-test-'));
    cpSync(template, dir, { recursive: true });
    return { env: { DATA_DIR: dir }, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const url = postgresUrl();
  if (!url) throw new Error('DATABASE_URL is not set');
  const name = `taskflow_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  return {
    env: { DATABASE_URL: withDatabase(url, name) },
    drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
