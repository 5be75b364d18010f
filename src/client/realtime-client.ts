// The typed real-time client of the web UI and the tests: one WebSocket to /api/v1/ws that
// authenticates with its first message, subscribes after its last cursor, and re-connects
// forever (exponential backoff with jitter, capped), so a dropped network costs a replay,
// never an event. Runs in browsers (global WebSocket) and Node (the `ws` package when Node
// has no global WebSocket). Protocol: docs/realtime.md.
import type { ReminderNotice, ServerFrame, Topic } from '../realtime/schema.js';

/** The subset of the WHATWG WebSocket this client uses (browser and `ws` alike). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketFactory = new (url: string, protocols?: string | string[]) => WebSocketLike;

/**
 * connecting: opening or replaying · online: live (after `ready`) · offline: waiting to
 * re-connect · unauthorized: the token was refused and cannot be renewed · closed: close() was called.
 */
export type RealtimeStatus = 'connecting' | 'online' | 'offline' | 'unauthorized' | 'closed';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

export interface RealtimeClientEvents {
  event: Frame<'event'>;
  reminder: ReminderNotice;
  ready: Frame<'ready'>;
  /** The server cannot resume from our cursor: refetch state (live events follow). */
  reset: Frame<'reset'>;
  error: Frame<'error'>;
  status: RealtimeStatus;
  /** Every close of the socket, with its code and reason (4401, 4008, 1001, ...). */
  disconnected: { code: number; reason: string };
}

export interface RealtimeClientOptions {
  /** ws(s)://host/api/v1/ws — or the API's http(s) origin, to which /api/v1/ws is added. */
  url: string;
  /** The access token, or a function returning a fresh one (called on every connect). */
  token: string | (() => string | Promise<string>);
  topics: Topic[];
  /** Resume after this cursor (e.g. kept in storage); default: from now. */
  cursor?: string | null;
  /** First re-connect delay (ms, default 500), doubled per failure up to maxDelayMs (default 30 000). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Application ping interval while connected (default 25 000); no frame within pongTimeoutMs (10 000) → re-connect. */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** A WebSocket implementation; default: globalThis.WebSocket, else the `ws` package. */
  WebSocket?: WebSocketFactory;
}

type Listener<K extends keyof RealtimeClientEvents> = (value: RealtimeClientEvents[K]) => void;

export interface RealtimeClient {
  readonly status: RealtimeStatus;
  /** The position to resume after: the last event or ready frame received. */
  readonly cursor: string | null;
  on<K extends keyof RealtimeClientEvents>(type: K, listener: Listener<K>): () => void;
  /** Drops the current socket and connects again now (after coming back online, say). */
  reconnect(): void;
  close(): void;
}

const OPEN = 1;

/** Backoff for the n-th consecutive failure (n ≥ 0): exponential, capped, with jitter in [½, 1]. */
export function reconnectDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export function createRealtimeClient(options: RealtimeClientOptions): RealtimeClient {
  const initialMs = options.initialDelayMs ?? 500;
  const maxMs = options.maxDelayMs ?? 30_000;
  const pingMs = options.pingIntervalMs ?? 25_000;
  const pongMs = options.pongTimeoutMs ?? 10_000;
  const url = /\/api\/v1\/ws$/.test(options.url)
    ? options.url
    : `${options.url.replace(/^http/, 'ws').replace(/\/$/, '')}/api/v1/ws`;
  const listeners = new Map<keyof RealtimeClientEvents, Set<(value: never) => void>>();
  let status: RealtimeStatus = 'connecting';
  let cursor = options.cursor ?? null;
  let socket: WebSocketLike | null = null;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let pingTimer: ReturnType<typeof setInterval> | null = null;
  let pongTimer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  /** Between deciding to connect and having the new socket: one socket at a time, never two. */
  let opening = false;

  function emit<K extends keyof RealtimeClientEvents>(type: K, value: RealtimeClientEvents[K]): void {
    for (const listener of listeners.get(type) ?? []) (listener as Listener<K>)(value);
  }

  function setStatus(next: RealtimeStatus): void {
    if (status === next) return;
    status = next;
    emit('status', next);
  }

  async function connect(): Promise<void> {
    retryTimer = null;
    if (closed || opening) return;
    opening = true;
    setStatus('connecting');
    let token: string;
    let ws: WebSocketLike;
    try {
      token = typeof options.token === 'function' ? await options.token() : options.token;
      const Socket = options.WebSocket ?? (await defaultWebSocket());
      if (closed) return;
      ws = new Socket(url);
    } catch {
      return scheduleReconnect();
    } finally {
      opening = false;
    }
    socket = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ action: 'auth', token }));
      ws.send(JSON.stringify({ action: 'subscribe', topics: options.topics, ...(cursor ? { after: cursor } : {}) }));
      startPinging(ws);
    };
    ws.onmessage = (message) => {
      if (socket !== ws) return;
      heard();
      if (typeof message.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(message.data) as ServerFrame;
      } catch {
        return;
      }
      receive(frame);
    };
    ws.onerror = () => {
      // A close always follows; re-connecting happens there.
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      stopPinging();
      emit('disconnected', { code: event.code, reason: event.reason });
      if (closed) return;
      // A refused token is refused again, unless we can ask for another one.
      const refused = event.code === 4401 && event.reason !== 'auth_timeout';
      if (refused && typeof options.token !== 'function') return setStatus('unauthorized');
      // An expired token with a way to get a new one: straight back (the replay fills the gap).
      if (event.code === 4401 && event.reason === 'token_expired') {
        setStatus('offline');
        retryTimer = setTimeout(() => void connect(), 0);
        return;
      }
      scheduleReconnect();
    };
  }

  function receive(frame: ServerFrame): void {
    switch (frame.type) {
      case 'event':
        cursor = frame.cursor;
        emit('event', frame);
        return;
      case 'reminder':
        emit('reminder', frame.reminder);
        return;
      case 'ready':
        cursor = frame.cursor;
        attempt = 0;
        setStatus('online');
        emit('ready', frame);
        return;
      case 'reset':
        cursor = null;
        emit('reset', frame);
        return;
      case 'error':
        emit('error', frame);
        return;
      default:
        return;
    }
  }

  function scheduleReconnect(): void {
    if (closed || retryTimer) return;
    setStatus('offline');
    retryTimer = setTimeout(() => void connect(), reconnectDelay(attempt++, initialMs, maxMs));
  }

  function startPinging(ws: WebSocketLike): void {
    stopPinging();
    pingTimer = setInterval(() => {
      if (ws.readyState !== OPEN || pongTimer) return;
      ws.send(JSON.stringify({ action: 'ping' }));
      // Any frame counts as a sign of life; none in time means a dead connection.
      pongTimer = setTimeout(() => ws.close(4000, 'no_pong'), pongMs);
    }, pingMs);
  }

  function heard(): void {
    if (pongTimer) clearTimeout(pongTimer);
    pongTimer = null;
  }

  function stopPinging(): void {
    if (pingTimer) clearInterval(pingTimer);
    heard();
    pingTimer = null;
  }

  // Browsers: re-connect as soon as the network is back instead of waiting out the backoff.
  const onOnline = () => {
    if (!socket && !closed) client.reconnect();
  };
  const events = globalThis as {
    addEventListener?: (type: string, fn: () => void) => void;
    removeEventListener?: (type: string, fn: () => void) => void;
  };
  events.addEventListener?.('online', onOnline);

  const client: RealtimeClient = {
    get status() {
      return status;
    },
    get cursor() {
      return cursor;
    },
    on(type, listener) {
      const set = listeners.get(type) ?? new Set();
      listeners.set(type, set);
      set.add(listener as (value: never) => void);
      return () => set.delete(listener as (value: never) => void);
    },
    reconnect() {
      if (closed || opening) return;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      const current = socket;
      socket = null;
      stopPinging();
      if (!current) return void connect();
      // Connect again once the old socket is gone (or after a second): holding both would
      // count twice against the per-user connection limit.
      opening = true;
      const again = () => {
        if (!opening || socket) return;
        clearTimeout(timer);
        opening = false;
        void connect();
      };
      const timer = setTimeout(again, 1000);
      current.onclose = again;
      current.close(4000, 'reconnect');
    },
    close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      stopPinging();
      events.removeEventListener?.('online', onOnline);
      const current = socket;
      socket = null;
      current?.close(1000, 'client closed');
      setStatus('closed');
    },
  };
  void connect();
  return client;
}

async function defaultWebSocket(): Promise<WebSocketFactory> {
  const global = (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
  if (global) return global;
  const ws = await import('ws');
  return ws.WebSocket as unknown as WebSocketFactory;
}
