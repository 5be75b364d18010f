// The real-time hub of one server process: tails the event log (tailer.ts) and fans each
// event out to the open connections of the users allowed to see it (lists/access.ts:
// eventAudience). No broker between instances: every process tails the log itself, so a
// change made through instance A reaches a client of instance B through the database.
//
// Per user, events are presented once (present.ts) in log order on a promise chain, then
// offered to each of the user's connections, which replay, buffer, deduplicate and apply
// backpressure on their own (connection.ts). Limits: connections per user (in this process),
// heartbeats that drop dead peers, token expiry; stop() closes everything with 1001.
import type { Principal } from '../auth/service.js';
import type { Database } from '../db/connect.js';
import type { StoredEvent } from '../events/types.js';
import { eventAudience } from '../lists/access.js';
import type { Logger } from '../observability/logger.js';
import { RealtimeConnection, type StreamContext, type Transport, type UserStream } from './connection.js';
import type { RealtimeMetrics, TransportKind } from './metrics.js';
import { createTitleCache, presentEvents } from './present.js';
import { CLOSE } from './schema.js';
import { createLogTailer } from './tailer.js';

export interface RealtimeOptions {
  maxConnectionsPerUser: number;
  maxBufferedBytes: number;
  heartbeatIntervalMs: number;
  pollIntervalMs: number;
  replayLimit: number;
}

interface UserState {
  stream: UserStream;
  connections: Set<RealtimeConnection>;
  /** Resolves once the user's time zone (for summaries) is known. */
  ready: Promise<void>;
  /** Presentation and fan-out of this user's live events, one batch after the other. */
  queue: Promise<void>;
}

export type ConnectResult = RealtimeConnection | 'too_many_connections' | 'shutting_down';

export type RealtimeHub = ReturnType<typeof createRealtimeHub>;

// Longest setTimeout Node accepts; a token living longer is re-checked at the next reconnect.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createRealtimeHub(deps: {
  database: Database;
  log: Logger;
  metrics: (connections: () => Record<TransportKind, number>) => RealtimeMetrics;
  options: RealtimeOptions;
  /** This app's NOTIFY origin: the tailer skips the echo of local commits (nudged directly). */
  ownOrigin?: string;
}) {
  const { database, log, options } = deps;
  const db = database.db;
  const users = new Map<string, UserState>();
  const counts: Record<TransportKind, number> = { ws: 0, sse: 0 };
  const expiryTimers = new Map<RealtimeConnection, NodeJS.Timeout>();
  /** Connections opened with a personal API token, by token id: revoking it ends them. */
  const tokenOf = new Map<RealtimeConnection, string>();
  const titles = createTitleCache(50_000);
  const metrics = deps.metrics(() => ({ ...counts }));
  const tailer = createLogTailer({
    database,
    log,
    options: { pollIntervalMs: options.pollIntervalMs, batchSize: 1000, ownOrigin: deps.ownOrigin },
    onEvents: dispatch,
  });
  const context: StreamContext = {
    db,
    log,
    metrics,
    tailPosition: () => tailer.position(),
    options: { maxBufferedBytes: options.maxBufferedBytes, replayLimit: options.replayLimit },
  };
  let state: 'idle' | 'running' | 'stopped' = 'idle';
  let heartbeatTimer: NodeJS.Timeout | null = null;

  /** Called by the tailer with each batch, in log order, in the tick that moves its position. */
  function dispatch(events: StoredEvent[]): void {
    const byUser = new Map<UserState, StoredEvent[]>();
    for (const event of events) {
      // The log tells every process (this one included) that a token lost its authority.
      if (event.type === 'api_token.revoked') endStreamsOf(event.userId, event.data.token_id);
      for (const userId of eventAudience(event)) {
        const user = users.get(userId);
        if (!user) continue;
        const list = byUser.get(user);
        if (list) list.push(event);
        else byUser.set(user, [event]);
      }
    }
    for (const [user, list] of byUser) user.queue = user.queue.then(() => fanOut(user, list));
  }

  async function fanOut(user: UserState, events: StoredEvent[]): Promise<void> {
    if (user.connections.size === 0) return;
    try {
      const presented = await presentEvents(db, user.stream, events, titles);
      const now = Date.now();
      for (const event of events) metrics.deliveryDelay.observe(Math.max(0, now - event.occurredAt.getTime()) / 1000);
      for (const connection of user.connections) connection.offer(presented);
    } catch (err) {
      // Skipping the batch would be a silent gap: end the streams instead; clients resume.
      log.error({ err, user_id: user.stream.id }, "real-time fan-out failed; closing the user's connections");
      for (const connection of user.connections) connection.end('error', CLOSE.internalError, 'internal_error');
    }
  }

  function endStreamsOf(userId: string, tokenId: unknown): void {
    for (const connection of users.get(userId)?.connections ?? []) {
      if (tokenOf.get(connection) === tokenId) connection.end('token_revoked', CLOSE.unauthorized, 'token_revoked');
    }
  }

  function onEnd(connection: RealtimeConnection): void {
    const user = users.get(connection.user.id);
    if (!user?.connections.delete(connection)) return;
    counts[connection.transport.kind]--;
    if (user.connections.size === 0) users.delete(connection.user.id);
    clearTimeout(expiryTimers.get(connection));
    expiryTimers.delete(connection);
    tokenOf.delete(connection);
  }

  function heartbeat(): void {
    for (const user of users.values()) {
      for (const connection of user.connections) {
        if (connection.transport.heartbeat()) continue;
        connection.end('dead');
        connection.transport.terminate();
      }
    }
  }

  async function loadTimeZone(userId: string): Promise<string> {
    const row = await db.selectFrom('users').select('time_zone').where('id', '=', userId).executeTakeFirst();
    return row?.time_zone ?? 'UTC';
  }

  return {
    metrics,

    async start(): Promise<void> {
      if (state !== 'idle') return;
      await tailer.start();
      heartbeatTimer = setInterval(heartbeat, options.heartbeatIntervalMs);
      heartbeatTimer.unref();
      state = 'running';
    },

    /** Closes every connection (1001: reconnect elsewhere), then stops tailing. */
    async stop(): Promise<void> {
      if (state === 'stopped') return;
      state = 'stopped';
      if (heartbeatTimer) clearInterval(heartbeatTimer);
      for (const user of [...users.values()]) {
        for (const connection of [...user.connections]) connection.end('shutdown', CLOSE.goingAway, 'shutting_down');
      }
      await tailer.stop();
    },

    /** Wake the tailer now (after a local commit that appended events). */
    nudge: (): void => tailer.nudge(),

    /**
     * Registers an authenticated connection, or says why not. `expiresAt` (epoch ms): when
     * the credential expires, the connection ends with 4401 token_expired; one opened with an
     * API token ends with 4401 token_revoked when the token is revoked (api_token.revoked).
     */
    async connect(principal: Principal, transport: Transport, expiresAt: number | null): Promise<ConnectResult> {
      if (state !== 'running') return 'shutting_down';
      let user = users.get(principal.userId);
      if (!user) {
        const stream: UserStream = { id: principal.userId, timeZone: 'UTC' };
        const ready = loadTimeZone(principal.userId).then(
          (zone) => {
            stream.timeZone = zone;
          },
          (err: unknown) => log.warn({ err, user_id: principal.userId }, 'time zone lookup failed; summaries in UTC'),
        );
        user = { stream, connections: new Set(), ready, queue: ready };
        users.set(principal.userId, user);
      }
      // A connection whose close handshake is under way (a client re-connecting) no longer counts.
      let open = 0;
      for (const other of user.connections) if (!other.transport.isClosing()) open++;
      if (open >= options.maxConnectionsPerUser) return 'too_many_connections';
      const connection = new RealtimeConnection(user.stream, transport, context, onEnd);
      user.connections.add(connection);
      counts[transport.kind]++;
      if (principal.tokenId) tokenOf.set(connection, principal.tokenId);
      if (expiresAt !== null) {
        const timer = setTimeout(
          () => connection.end('token_expired', CLOSE.unauthorized, 'token_expired'),
          Math.min(MAX_TIMER_MS, Math.max(0, expiresAt - Date.now())),
        );
        timer.unref();
        expiryTimers.set(connection, timer);
      }
      await user.ready;
      return connection;
    },

    /** Open connections in this process, by transport. */
    connectionCounts: (): Record<TransportKind, number> => ({ ...counts }),
  };
}
