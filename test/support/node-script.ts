// Runs a TypeScript script of our own (a test fixture) as a child process through tsx,
// with the same handle as the CLI helper: JSON log lines to wait for, stderr, exit, stop.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliProcess, LogLine } from './cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `node --import tsx <script>` from the repository root; `script` is relative to it. */
export function spawnScript(script: string, env: NodeJS.ProcessEnv): CliProcess {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  const running = () => child.exitCode === null && child.signalCode === null;

  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(predicate, timeoutMs, what) {
      const seen = logs.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const fail = (why: string) => {
          clearTimeout(timer);
          waiters.delete(check);
          reject(new Error(`${why} waiting for ${what}; stderr: ${stderr.slice(-2000)}`));
        };
        const check = (line: LogLine) => {
          if (!predicate(line)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(line);
        };
        const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
        waiters.add(check);
        void exited.then(() => waiters.has(check) && fail('process exited'));
      });
    },
    async stop() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}
