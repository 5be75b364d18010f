// The HTTP side of a comparison: autocannon drives a listening server from a child process
// (http-load-process.ts). In the server's own process, the client's request building and
// response parsing would share the event loop and be billed to the server's latency.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Options } from 'autocannon';
import { type Measurement, summarize } from './measurement.js';

export interface HttpLoadRequest {
  target: Options;
  durationS: number;
  /** Same load, run first and discarded. */
  warmupS: number;
}

export type HttpLoadReply =
  | { ok: true; latenciesMs: number[]; seconds: number; statusCounts: Record<string, number>; errors: number; timeouts: number }
  | { ok: false; error: string };

/** POST /api/v1/tasks with `task` (`[<id>]` in it made unique per request) on `connections` connections. */
export function measureCreateTaskHttp(
  address: string,
  token: string,
  task: object,
  load: { connections: number; durationS: number; warmupS: number },
  signal: AbortSignal,
): Promise<Measurement> {
  return measureHttp(
    'HTTP POST /api/v1/tasks',
    {
      target: {
        url: `${address}/api/v1/tasks`,
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(task),
        idReplacement: true,
        connections: load.connections,
      },
      durationS: load.durationS,
      warmupS: load.warmupS,
    },
    201,
    signal,
  );
}

const CHILD = fileURLToPath(new URL('./http-load-process.ts', import.meta.url));

/** Runs the load and fails unless every response had `expectStatus`: errors would be measured otherwise. */
export async function measureHttp(
  name: string,
  request: HttpLoadRequest,
  expectStatus: number,
  signal: AbortSignal,
): Promise<Measurement> {
  const reply = await runChild(request, signal);
  if (!reply.ok) throw new Error(`${name}: load generator failed: ${reply.error}`);
  const unexpected = Object.entries(reply.statusCounts).filter(([status]) => Number(status) !== expectStatus);
  if (unexpected.length > 0 || reply.errors > 0 || reply.timeouts > 0) {
    throw new Error(
      `${name}: expected only ${expectStatus} responses, got statuses ${JSON.stringify(reply.statusCounts)}, ` +
        `${reply.errors} connection errors, ${reply.timeouts} timeouts`,
    );
  }
  return summarize(name, reply.latenciesMs, reply.seconds);
}

function runChild(request: HttpLoadRequest, signal: AbortSignal): Promise<HttpLoadReply> {
  signal.throwIfAborted();
  // Inherits process.execArgv, so the child loads TypeScript through tsx like run.ts does.
  const child = fork(CHILD, [], { stdio: 'inherit' });
  return new Promise<HttpLoadReply>((resolve, reject) => {
    let reply: HttpLoadReply | null = null;
    const onAbort = () => child.kill();
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('message', (message) => {
      reply = message as HttpLoadReply;
    });
    child.once('error', reject);
    child.once('exit', (code, exitSignal) => {
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) reject(signal.reason);
      else if (reply) resolve(reply);
      else reject(new Error(`load generator exited (code ${code}, signal ${exitSignal}) without a result`));
    });
    child.send(request);
  });
}
