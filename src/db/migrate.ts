// Applies the numbered SQL migrations in src/db/migrations (NNNN_name.up.sql, each with a
// NNNN_name.down.sql). All pending migrations run in ONE transaction behind an advisory
// lock, so replicas starting together apply them once and a failure applies none.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import type { DB } from './tables.js';

const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
// An arbitrary constant: the advisory lock key that serialises migrators.
const MIGRATION_LOCK_KEY = 7_346_001;

export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir);
  return files
    .filter((f) => f.endsWith('.up.sql'))
    .sort()
    .map((file) => {
      const match = /^(\d{4})_(.+)\.up\.sql$/.exec(file);
      if (!match) throw new Error(`migration file name must be NNNN_name.up.sql: ${file}`);
      const [, version, name] = match as unknown as [string, string, string];
      const downFile = `${version}_${name}.down.sql`;
      if (!files.includes(downFile)) throw new Error(`migration ${file} has no ${downFile}`);
      return {
        version: Number(version),
        name,
        up: readFileSync(path.join(dir, file), 'utf8'),
        down: readFileSync(path.join(dir, downFile), 'utf8'),
      };
    });
}

async function ensureMigrationsTable(db: Kysely<DB>): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
}

export async function appliedVersions(db: Kysely<DB>): Promise<number[]> {
  await ensureMigrationsTable(db);
  const rows = await db.selectFrom('schema_migrations').select('version').orderBy('version').execute();
  return rows.map((r) => r.version);
}

/** Applies every pending migration; returns the versions applied now. */
export async function migrateUp(db: Kysely<DB>, migrations = loadMigrations()): Promise<number[]> {
  await ensureMigrationsTable(db);
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(tx);
    const done = new Set((await tx.selectFrom('schema_migrations').select('version').execute()).map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await sql.raw(m.up).execute(tx);
      await tx.insertInto('schema_migrations').values({ version: m.version, name: m.name }).execute();
      applied.push(m.version);
    }
    return applied;
  });
}

/** Rolls back applied migrations newer than `toVersion` (0 = all), newest first. */
export async function migrateDown(db: Kysely<DB>, toVersion: number, migrations = loadMigrations()): Promise<number[]> {
  await ensureMigrationsTable(db);
  return db.transaction().execute(async (tx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`.execute(tx);
    const done = (await tx.selectFrom('schema_migrations').select('version').orderBy('version', 'desc').execute()).map(
      (r) => r.version,
    );
    const reverted: number[] = [];
    for (const version of done) {
      if (version <= toVersion) break;
      const m = migrations.find((x) => x.version === version);
      if (!m) throw new Error(`applied migration ${version} has no file to roll it back`);
      await sql.raw(m.down).execute(tx);
      await tx.deleteFrom('schema_migrations').where('version', '=', version).execute();
      reverted.push(version);
    }
    return reverted;
  });
}

/** True when every migration shipped with this build is applied (readiness check). */
export async function isSchemaCurrent(db: Kysely<DB>, migrations = loadMigrations()): Promise<boolean> {
  const rows = await db.selectFrom('schema_migrations').select('version').execute();
  const done = new Set(rows.map((r) => r.version));
  return migrations.every((m) => done.has(m.version));
}
