// `taskflow worker` as operators run it (DESIGN §6): consumers only, no HTTP listener,
// and a graceful exit 0 on SIGTERM, on PGlite and on PostgreSQL.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeWithDatabase } from './support/app.js';
import { type CliProcess, cliEnv, exitOf, spawnCli } from './support/cli.js';
import { copyTemplate, type DatabaseCopy, testDatabaseKind } from './support/databases.js';

// tsx's loader plus (on PGlite) booting the WASM database, on a busy 2-core machine.
const START_MS = 30_000;

describeWithDatabase('taskflow worker', () => {
  let database: DatabaseCopy;
  const children = new Set<CliProcess>();
  beforeAll(async () => {
    database = await copyTemplate(inject('databaseTemplate'));
  });
  afterAll(async () => {
    for (const cli of children) await cli.stop();
    await database?.drop();
  });

  it('`worker` starts the consumers without an HTTP listener and exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
    const cli = spawnCli(['worker'], cliEnv(database, { PORT: '0', HOST: '127.0.0.1' }));
    children.add(cli);
    const running = await cli.waitForLog((l) => l.msg === 'TaskFlow worker running', START_MS, 'the worker to run');
    expect(running).toMatchObject({ database: testDatabaseKind() });
    expect(cli.logs.some((l) => l.msg === 'consumers started')).toBe(true);
    expect(cli.logs.some((l) => typeof l.address === 'string')).toBe(false);

    cli.child.kill('SIGTERM');
    const { code, signal } = await exitOf(cli, 15_000, 'the worker after SIGTERM');
    expect({ code, signal }, cli.stderr()).toEqual({ code: 0, signal: null });
    expect(cli.logs.some((l) => l.msg === 'shutting down')).toBe(true);
  });
});
