// Real sockets against a listening test app: a WebSocket that records every frame and its
// close, and an SSE reader over fetch that parses frames. Tests wait on them with deadlines,
// generous ones: on a shared PostgreSQL any long transaction (another database's included)
// holds back the xmin gate, and with it every live delivery.
import { WebSocket } from 'ws';
import type { ServerFrame } from '../../src/realtime/schema.js';
import { until, withDeadline } from './until.js';

export interface TestSocket {
  readonly ws: WebSocket;
  readonly frames: ServerFrame[];
  /** Resolves with the close code and reason (1006 when the connection just dropped). */
  readonly closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** The first frame (already received or coming) matching `predicate`. */
  frame<T extends ServerFrame>(predicate: (f: ServerFrame) => boolean, what: string, timeoutMs?: number): Promise<T>;
  /** Event frames received so far. */
  events(): Extract<ServerFrame, { type: 'event' }>[];
  close(): void;
}

export type TokenVia = 'message' | 'protocol' | 'query' | 'header' | 'none';

export function wsUrl(address: string, query = ''): string {
  return `${address.replace(/^http/, 'ws')}/api/v1/ws${query}`;
}

/** Opens /api/v1/ws with the token passed the chosen way; resolves once open. */
export async function openSocket(
  address: string,
  token: string | null,
  via: TokenVia = 'message',
  options: { autoPong?: boolean } = {},
): Promise<TestSocket> {
  const query = via === 'query' && token ? `?access_token=${encodeURIComponent(token)}` : '';
  const protocols = via === 'protocol' && token ? ['taskflow', `bearer.${token}`] : undefined;
  const headers = via === 'header' && token ? { authorization: `Bearer ${token}` } : undefined;
  const ws = new WebSocket(wsUrl(address, query), protocols, { headers, autoPong: options.autoPong ?? true });
  const frames: ServerFrame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(data.toString()) as ServerFrame));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  ws.on('error', () => undefined);
  await withDeadline(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    5000,
    'WebSocket open',
  );
  if (via === 'message' && token) ws.send(JSON.stringify({ action: 'auth', token }));
  return {
    ws,
    frames,
    closed,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    frame: <T extends ServerFrame>(predicate: (f: ServerFrame) => boolean, what: string, timeoutMs = 10_000) =>
      until(() => frames.find(predicate), { timeoutMs, what }) as Promise<T>,
    events: () => frames.filter((f): f is Extract<ServerFrame, { type: 'event' }> => f.type === 'event'),
    close: () => ws.close(),
  };
}

/** Opens a socket, subscribes and waits for `ready`. */
export async function subscribedSocket(
  address: string,
  token: string,
  subscribe: { topics: string[]; after?: string },
): Promise<TestSocket> {
  const socket = await openSocket(address, token);
  socket.send({ action: 'subscribe', ...subscribe });
  await socket.frame((f) => f.type === 'ready', 'ready');
  return socket;
}

export interface SseFrame {
  id: string | null;
  data: ServerFrame;
}

export interface SseStream {
  status: number;
  frames: SseFrame[];
  /** Comment lines (heartbeats) seen so far. */
  comments: number;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  frame(predicate: (f: SseFrame) => boolean, what: string, timeoutMs?: number): Promise<SseFrame>;
  close(): void;
}

/** GET /api/v1/events/stream; resolves once the response headers arrived. */
export async function openSse(
  address: string,
  options: { token?: string; query?: string; lastEventId?: string },
): Promise<SseStream> {
  const controller = new AbortController();
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(`${address}/api/v1/events/stream${options.query ?? ''}`, { headers, signal: controller.signal });
  const stream: SseStream = {
    status: res.status,
    frames: [],
    comments: 0,
    ended: Promise.resolve(),
    frame: (predicate, what, timeoutMs = 10_000) => until(() => stream.frames.find(predicate), { timeoutMs, what }),
    close: () => controller.abort(),
  };
  if (res.status !== 200 || !res.body) return stream;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  stream.ended = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          parseBlock(buffer.slice(0, end), stream);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // Aborted by the test, or the server dropped the connection.
    }
  })();
  return stream;
}

function parseBlock(block: string, stream: SseStream): void {
  let id: string | null = null;
  let data: string | null = null;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) stream.comments++;
    else if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('data: ')) data = line.slice(6);
  }
  if (data !== null) stream.frames.push({ id, data: JSON.parse(data) as ServerFrame });
}
