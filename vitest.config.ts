// Three projects: `unit` (pure functions, no database), and the same HTTP-level suite in
// test/ run twice, once on embedded PGlite and once on the PostgreSQL in DATABASE_URL.
// The PostgreSQL run skips only outside CI; with CI=true a missing server fails it.
import { defineConfig } from 'vitest/config';

const integration = (database: 'pglite' | 'postgres') => ({
  test: {
    name: database,
    include: ['test/**/*.test.ts'],
    env: { TEST_DATABASE: database },
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    // .ci/run asks for a JSON report too, to print one closing "N passed, N failed" line.
    reporters: process.env.VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.VITEST_JSON ? { outputFile: { json: process.env.VITEST_JSON } } : {}),
    projects: [{ test: { name: 'unit', include: ['src/**/*.test.ts'] } }, integration('pglite'), integration('postgres')],
  },
});
