// GET /api/v1/ws: the WebSocket transport (protocol in docs/realtime.md). The socket is
// accepted first and authenticated after (token in the handshake, or a first `auth`
// message), so that a browser sees a close code (4401 + reason) instead of an opaque
// failed handshake. Inbound messages are size-capped (ws closes with 1009), rate-limited
// per connection (token bucket) and handled one after the other.
import websocket from '@fastify/websocket';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { WebSocket } from 'ws';
import type { AuthService } from '../auth/service.js';
import type { RealtimeConnection, Transport } from './connection.js';
import { type AuthFailure, authFailure, requestToken, selectProtocol, tokenExpiry } from './credentials.js';
import type { RealtimeHub } from './hub.js';
import { CLOSE, type ClientMessage, clientMessageSchema, type ServerFrame } from './schema.js';

export interface WebSocketOptions {
  maxMessageBytes: number;
  maxMessagesPerSecond: number;
  authTimeoutMs: number;
}

export function realtimeWebSocketRoutes(auth: AuthService, hub: RealtimeHub, options: WebSocketOptions): FastifyPluginAsyncZod {
  return async (app) => {
    // Registered here, not globally: its hooks then apply to this route alone.
    await app.register(websocket, {
      options: { maxPayload: options.maxMessageBytes, handleProtocols: selectProtocol, perMessageDeflate: false },
    });
    app.get('/ws', { websocket: true }, (socket, request) => {
      serveSocket(socket, request, { auth, hub, options });
    });
  };
}

function webSocketTransport(socket: WebSocket): Transport {
  let alive = true;
  socket.on('pong', () => {
    alive = true;
  });
  return {
    kind: 'ws',
    send: (frame) => socket.send(frame),
    bufferedBytes: () => socket.bufferedAmount,
    close: (code, reason) => socket.close(code, reason),
    terminate: () => socket.terminate(),
    isClosing: () => socket.readyState !== socket.OPEN,
    heartbeat() {
      if (!alive) return false;
      alive = false;
      socket.ping();
      return true;
    },
  };
}

/** Allows `perSecond` messages a second on average, in bursts of up to twice that. */
function tokenBucket(perSecond: number) {
  const capacity = perSecond * 2;
  let tokens = capacity;
  let last = performance.now();
  return () => {
    const now = performance.now();
    tokens = Math.min(capacity, tokens + ((now - last) / 1000) * perSecond);
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

function serveSocket(
  socket: WebSocket,
  request: FastifyRequest,
  deps: { auth: AuthService; hub: RealtimeHub; options: WebSocketOptions },
): void {
  const { auth, hub, options } = deps;
  const log = request.log;
  const transport = webSocketTransport(socket);
  const allow = tokenBucket(options.maxMessagesPerSecond);
  let connection: RealtimeConnection | null = null;
  /** A token arrived: the timeout is for presenting one, not for our database being busy. */
  let presented = false;
  let closed = false;
  let refused = 0;
  let queue: Promise<void> = Promise.resolve();

  const frame = (f: ServerFrame) => (connection ? connection.sendFrame(f) : socket.send(JSON.stringify(f)));
  const reject = (
    code: number,
    reason: string,
    why: 'auth_failed' | 'too_many_connections' | 'rate_limited' | 'shutdown' | 'error',
  ) => {
    if (closed) return;
    closed = true;
    if (connection) connection.end(why, code, reason);
    else {
      hub.metrics.disconnects.inc({ transport: 'ws', reason: why });
      socket.close(code, reason);
    }
  };
  const unauthorized = (reason: AuthFailure) => reject(CLOSE.unauthorized, reason, 'auth_failed');

  const authTimer = setTimeout(() => presented || unauthorized('auth_timeout'), options.authTimeoutMs);
  socket.on('close', () => {
    closed = true;
    clearTimeout(authTimer);
    connection?.end('client');
  });

  async function authenticate(token: string): Promise<void> {
    presented = true;
    let principal: Awaited<ReturnType<AuthService['authenticate']>>;
    try {
      principal = await auth.authenticate(token);
    } catch (err) {
      const failure = authFailure(err);
      if (!failure) throw err;
      return unauthorized(failure);
    }
    if (closed) return;
    const result = await hub.connect(principal, transport, tokenExpiry(token, principal));
    if (result === 'too_many_connections') return reject(CLOSE.tooMany, 'too_many_connections', 'too_many_connections');
    if (result === 'shutting_down') return reject(CLOSE.goingAway, 'shutting_down', 'shutdown');
    connection = result;
    clearTimeout(authTimer);
    // The peer may have gone while we registered it.
    if (closed) connection.end('client');
    else log.debug({ user_id: principal.userId }, 'websocket authenticated');
  }

  async function handle(message: ClientMessage): Promise<void> {
    if (message.action === 'auth') {
      if (connection) frame({ type: 'error', code: 'already_authenticated', message: 'This connection is authenticated' });
      else await authenticate(message.token);
      return;
    }
    // Without a token in the handshake, the first message must authenticate.
    if (!connection) return unauthorized('auth_required');
    switch (message.action) {
      case 'subscribe': {
        // Not awaited: a long replay must not hold up pings (the connection orders its own work).
        const streaming = connection;
        streaming.subscribe(message.topics, message.after).catch((err: unknown) => {
          log.error({ err }, 'real-time subscribe failed');
          streaming.end('error', CLOSE.internalError, 'internal_error');
        });
        return;
      }
      case 'unsubscribe':
        connection.unsubscribe(message.topics);
        return;
      case 'ping':
        frame({ type: 'pong' });
        return;
    }
  }

  function onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (closed) return;
    if (!allow()) {
      // A client that keeps going after a full bucket's worth of refusals is flooding.
      if (++refused > options.maxMessagesPerSecond * 2) reject(CLOSE.tooMany, 'rate_limited', 'rate_limited');
      else if (refused === 1) frame({ type: 'error', code: 'rate_limited', message: 'Too many messages; this one was dropped' });
      return;
    }
    refused = 0;
    const parsed = isBinary ? null : parseMessage(data.toString());
    if (!parsed?.success) {
      const detail = parsed?.error ?? 'messages are JSON text';
      frame({ type: 'error', code: 'bad_message', message: detail });
      return;
    }
    if (parsed.message.action === 'auth') presented = true;
    queue = queue
      .then(() => handle(parsed.message))
      .catch((err: unknown) => {
        log.error({ err }, 'websocket message failed');
        reject(CLOSE.internalError, 'internal_error', 'error');
      });
  }

  socket.on('message', onMessage);
  const token = safeRequestToken(request);
  if (token === undefined) unauthorized('token_invalid');
  else if (token) {
    presented = true;
    queue = queue.then(() => authenticate(token));
  }
}

/** The handshake's token; undefined when the Authorization header is malformed. */
function safeRequestToken(request: FastifyRequest): string | null | undefined {
  try {
    return requestToken(request);
  } catch {
    return undefined;
  }
}

function parseMessage(text: string): { success: true; message: ClientMessage } | { success: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { success: false, error: 'messages are JSON text' };
  }
  const result = clientMessageSchema.safeParse(json);
  if (result.success) return { success: true, message: result.data };
  const issue = result.error.issues[0];
  return { success: false, error: issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid message' };
}
