// Runs the real `taskflow` CLI (bin/taskflow.js), or a fixture script of ours, as a child
// process against a test database copy, collecting its JSON log lines so that tests can wait for a line (event
// driven, with a deadline) instead of sleeping. Callers own the process: `stop()` it in
// afterAll so that a failed test never leaves one running.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../src/config.js';
import type { DatabaseCopy } from './databases.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type LogLine = Record<string, unknown> & { msg?: string };

export interface CliProcess {
  readonly child: ChildProcess;
  /** Parsed JSON lines from stdout, in order (non-JSON lines are kept as { raw }). */
  readonly logs: LogLine[];
  stderr(): string;
  /** Resolves when the process has exited and its output is drained. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The first log line matching `predicate`, waiting for it up to `timeoutMs`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine>;
  /** Kills the process (SIGKILL) if it is still running and waits for it to exit. */
  stop(): Promise<void>;
}

/** The environment a child needs for `database`: ours without any TaskFlow setting, plus its own. */
export function cliEnv(database: DatabaseCopy, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // DATABASE_URL of the PostgreSQL project (the admin URL) must not leak into a PGlite child.
  for (const key of Object.keys(configSchema.shape)) delete env[key];
  return { ...env, LOG_LEVEL: 'info', ...database.env, ...extra };
}

/** The `taskflow` CLI with `args`. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  return spawnNode(['bin/taskflow.js', ...args], env);
}

/** A TypeScript script of our own (a test fixture, relative to the repository root), through tsx. */
export function spawnScript(script: string, env: NodeJS.ProcessEnv): CliProcess {
  return spawnNode(['--import', 'tsx', script], env);
}

function spawnNode(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const waiters = new Set<(line: LogLine) => void>();
  let stderr = '';
  let pending = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const text of lines) {
      if (!text.trim()) continue;
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { raw: text };
      }
      logs.push(line);
      for (const notify of waiters) notify(line);
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  // What a failed wait reports: the exit, the last log lines (fatal errors are logged as
  // JSON to stdout) and stderr.
  const output = () =>
    `exit ${child.exitCode ?? child.signalCode ?? 'none yet'}; last log lines: ${JSON.stringify(logs.slice(-5)).slice(-2000)}; ` +
    `stderr: ${stderr.slice(-2000)}`;

  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(predicate, timeoutMs, what) {
      const seen = logs.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const check = (line: LogLine) => {
          if (predicate(line)) {
            done();
            resolve(line);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${output()}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => {
          if (!waiters.has(check)) return;
          done();
          reject(new Error(`process exited while waiting for ${what}; ${output()}`));
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits for the process to exit; past the deadline it is killed and the wait fails. */
export async function exitOf(cli: CliProcess, timeoutMs: number, what: string) {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cli.child.kill('SIGKILL');
      reject(new Error(`${what} did not exit within ${timeoutMs} ms; stderr: ${cli.stderr().slice(-2000)}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([cli.exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
