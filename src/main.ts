// CLI entry: `taskflow serve | migrate [down N] | seed --user NAME`. Parses the config once,
// runs one command, and on SIGTERM/SIGINT shuts down gracefully within SHUTDOWN_TIMEOUT_MS.
import { parseArgs } from 'node:util';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { connectDatabase } from './db/connect.js';
import { migrateDown, migrateUp } from './db/migrate.js';
import { archiveEvents } from './events/retention.js';
import { createLogger } from './observability/logger.js';
import { seed } from './seed/seed.js';

const USAGE = `Usage: taskflow <command>

Commands:
  serve                 start the HTTP API, plus the event consumers unless RUN_WORKERS=false (default)
  worker                run only the event consumers (scale them apart from the API)
  admin grant <email>   give a user the admin role (dead-letter endpoints); they log in again
  archive-events        move events older than EVENT_RETENTION_DAYS to events_archive now
  migrate               apply pending database migrations
  migrate down <N>      roll back to migration N (0 = everything)
  seed --user <name>    create user <name>@example.com (password "taskflow-demo") with sample tasks
                        [--tasks <count>] (default 60; above 1000 written set-based, in seconds)
                        [--users <N> [--tasks-per-user <count>]] also <name>-1 … <name>-N (bulk)
`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      tasks: { type: 'string' },
      users: { type: 'string' },
      'tasks-per-user': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command = 'serve', ...rest] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);

  switch (command) {
    case 'serve':
    case 'worker': {
      // Listen for the signal before anything starts: a SIGTERM that arrives while the
      // workers are still starting must shut down gracefully, not kill the process.
      const signalled = waitForSignal();
      const app = await createApp(config, { log });
      if (command === 'serve') {
        const address = await app.listen();
        log.info({ address, database: app.database.kind }, `TaskFlow listening on ${address}`);
      }
      if (command === 'worker' || config.RUN_WORKERS) await app.startWorkers();
      if (command === 'worker') log.info({ database: app.database.kind }, 'TaskFlow worker running');
      await signalled;
      log.info('shutting down');
      const timer = setTimeout(() => {
        log.error('graceful shutdown timed out; exiting');
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      await app.close();
      return 0;
    }
    case 'admin': {
      const email = rest[1];
      if (rest[0] !== 'grant' || !email) throw new ConfigError('usage: taskflow admin grant <email>');
      const app = await createApp(config, { log });
      try {
        await app.auth.grantAdmin(email);
        log.info({ email }, 'admin role granted');
      } finally {
        await app.close();
      }
      return 0;
    }
    case 'archive-events': {
      if (!config.EVENT_RETENTION_DAYS) throw new ConfigError('set EVENT_RETENTION_DAYS to archive events');
      const app = await createApp(config, { log });
      try {
        const cutoff = new Date(Date.now() - config.EVENT_RETENTION_DAYS * 86_400_000);
        log.info({ moved: await archiveEvents(app.database.db, cutoff), cutoff }, 'events archived');
      } finally {
        await app.close();
      }
      return 0;
    }
    case 'migrate': {
      const database = await connectDatabase({
        databaseUrl: config.DATABASE_URL,
        dataDir: config.DATA_DIR,
        poolSize: 1,
        log,
      });
      try {
        if (rest[0] === 'down') {
          const to = Number(rest[1] ?? Number.NaN);
          if (!Number.isInteger(to) || to < 0) throw new ConfigError('migrate down needs a target version: migrate down <N>');
          log.info({ reverted: await migrateDown(database.db, to) }, 'migrations rolled back');
        } else {
          log.info({ applied: await migrateUp(database.db) }, 'migrations applied');
        }
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'seed': {
      if (!values.user) throw new ConfigError('seed needs --user <name>');
      const count = (flag: string, value: string | undefined, fallback: number) => {
        const n = Number(value ?? fallback);
        if (!Number.isInteger(n) || n < 0) throw new ConfigError(`seed --${flag} must be a whole number, got "${value}"`);
        return n;
      };
      const tasks = count('tasks', values.tasks, 60);
      const options = {
        tasks,
        users: count('users', values.users, 0),
        tasksPerUser: count('tasks-per-user', values['tasks-per-user'], tasks),
        onProgress: (message: string) => log.info(message),
      };
      const app = await createApp(config, { log });
      try {
        const result = await seed(app, values.user, options);
        log.info(result, 'seeded');
      } finally {
        await app.close();
      }
      return 0;
    }
    default:
      process.stderr.write(`Unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
