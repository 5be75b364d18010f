// The client side of a real-time benchmark: N WebSocket clients in a child process
// (ws-clients-process.ts), driven over IPC. Arrival times come back as epoch milliseconds
// with sub-ms resolution, comparable with the parent's `epochMs()` on the same machine.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ClientSpec {
  url: string;
  protocols?: string[];
}

export type ClientsCommand =
  | { cmd: 'connect'; clients: ClientSpec[]; subscribe: string | null; concurrency: number }
  | { cmd: 'collect' }
  | { cmd: 'close' };

export type ClientsReply =
  | { type: 'connected'; count: number; ms: number }
  | { type: 'collected'; deliveries: Array<[key: string, atMs: number]> }
  | { type: 'closed' }
  | { type: 'error'; message: string };

const CHILD = fileURLToPath(new URL('./ws-clients-process.ts', import.meta.url));

/** The clock both processes stamp with: epoch ms, sub-millisecond. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export interface WsClients {
  /** Opens every client (subscribing each with `subscribe`, if given) and waits for all `ready`s. */
  connect(clients: ClientSpec[], subscribe: string | null): Promise<{ count: number; ms: number }>;
  /** Deliveries since the last collect: (key, arrival). */
  collect(): Promise<Array<[string, number]>>;
  /** Closes every client (the process stays for the next connect). */
  closeAll(): Promise<void>;
  /** Ends the child process. */
  stop(): Promise<void>;
}

export function startWsClients(signal: AbortSignal): WsClients {
  signal.throwIfAborted();
  // Inherits process.execArgv, so the child loads TypeScript through tsx like run.ts does.
  const child: ChildProcess = fork(CHILD, [], { stdio: 'inherit' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onAbort = () => child.kill();
  signal.addEventListener('abort', onAbort, { once: true });

  function request<T extends ClientsReply['type']>(
    command: ClientsCommand,
    expected: T,
  ): Promise<Extract<ClientsReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(signal.aborted ? signal.reason : new Error('the WebSocket client process exited'));
      child.once('exit', onExit);
      child.once('message', (message: ClientsReply) => {
        child.off('exit', onExit);
        if (message.type === expected) resolve(message as Extract<ClientsReply, { type: T }>);
        else reject(new Error(message.type === 'error' ? message.message : `unexpected reply ${message.type}`));
      });
      child.send(command);
    });
  }

  return {
    connect: async (clients, subscribe) => {
      const reply = await request({ cmd: 'connect', clients, subscribe, concurrency: 50 }, 'connected');
      return { count: reply.count, ms: reply.ms };
    },
    collect: async () => (await request({ cmd: 'collect' }, 'collected')).deliveries,
    closeAll: async () => {
      await request({ cmd: 'close' }, 'closed');
    },
    stop: async () => {
      signal.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    },
  };
}
