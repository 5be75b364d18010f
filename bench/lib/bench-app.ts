// What every benchmark needs to stand up the real app on a bench database: the config
// (no rate limits, no logs, tokens that outlive any run) and the server's version string.
import { sql } from 'kysely';
import type { App } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import type { BenchDatabase } from './databases.js';

export function benchConfig(database: BenchDatabase, extra: Record<string, string> = {}): Config {
  return loadConfig({
    ...database.env,
    HOST: '127.0.0.1',
    PORT: '0',
    RATE_LIMIT_ENABLED: 'false',
    LOG_LEVEL: 'silent',
    // Outlive any BENCH_DURATION_S: a 401 half-way would end the run.
    ACCESS_TOKEN_TTL_SECONDS: String(24 * 3600),
    ...extra,
  });
}

export async function serverVersion(app: App): Promise<string> {
  const result = await sql<{ version: string }>`select version()`.execute(app.database.db);
  return result.rows[0]?.version ?? 'unknown';
}
