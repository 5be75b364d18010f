// One client's stream, the same for WebSocket and SSE (a Transport hides the difference).
//
// Resume without gap or duplicate: on subscribe the connection starts buffering the live
// events the hub offers, notes the tailer's position T, then replays the user's events after
// the client's cursor from the log (gated like the tailer, scoped by visibleEvents). Every
// event up to T was read by the tailer before, so the replay sees it too; every event after
// T is offered live. Buffered events at or before the replay's last position are dropped,
// the rest are sent, and from then on a live event is sent only if it is after the last
// position sent: events reach the client in log order, each once.
//
// Backpressure: replay waits for the socket to drain; a live send finding more than
// maxBufferedBytes queued ends the connection (slow_consumer) instead of buffering more.
import { setTimeout as delay } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.js';
import { comparePositions, isArchivedAfter, type Position, readVisibleEventsAfter } from '../events/read-events.js';
import type { Logger } from '../observability/logger.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { DisconnectReason, RealtimeMetrics, TransportKind } from './metrics.js';
import { createTitleCache, type PresentedEvent, presentEvents, wants } from './present.js';
import { CLOSE, type ServerFrame, type Topic } from './schema.js';

/** How frames reach one client: a WebSocket, or an SSE response. */
export interface Transport {
  readonly kind: TransportKind;
  /** Queues a serialized frame; `cursor` becomes the SSE `id:`. */
  send(frame: string, cursor: string | null): void;
  /** Bytes queued in user space and not yet handed to the kernel. */
  bufferedBytes(): number;
  /** Ends the connection with a WebSocket close code and reason (SSE: a final error frame). */
  close(code: number, reason: string): void;
  /** Drops the socket at once (a dead peer). */
  terminate(): void;
  /** The peer or we started closing: the connection no longer counts against the limit. */
  isClosing(): boolean;
  /** Keep-alive: WebSocket ping (false if the last one got no pong), SSE comment. */
  heartbeat(): boolean;
}

export interface UserStream {
  id: string;
  timeZone: string;
}

export interface StreamContext {
  db: Kysely<DB>;
  log: Logger;
  metrics: RealtimeMetrics;
  /** Position of the last event the hub handed out. */
  tailPosition(): Position;
  options: { maxBufferedBytes: number; replayLimit: number };
}

const REPLAY_PAGE = 500;
/** How long a replay waits for a client to read what it was sent before giving up on it. */
const DRAIN_TIMEOUT_MS = 10_000;

export class RealtimeConnection {
  readonly topics = new Set<Topic>();
  private phase: 'idle' | 'replaying' | 'live' = 'idle';
  private pending: PresentedEvent[] = [];
  /** Last position sent or known to be covered: nothing at or before it is sent again. */
  private last: Position | null = null;
  /** Bumped by every subscribe and by the end: a replay that sees it change stops. */
  private generation = 0;
  private ended = false;

  constructor(
    readonly user: UserStream,
    readonly transport: Transport,
    private readonly context: StreamContext,
    private readonly onEnd: (connection: RealtimeConnection) => void,
  ) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** Live events of this user, in log order, from the hub. */
  offer(events: readonly PresentedEvent[]): void {
    if (this.ended || this.phase === 'idle') return;
    if (this.phase === 'replaying') {
      this.pending.push(...events);
      if (this.pending.length > this.context.options.replayLimit) this.end('slow_consumer', CLOSE.slowConsumer, 'slow_consumer');
      return;
    }
    this.deliver(events);
  }

  /** Adds topics; with `after` (or on the first subscribe) (re)starts the stream: replay, then live. */
  async subscribe(topics: readonly Topic[], after: string | undefined): Promise<void> {
    if (this.ended) return;
    for (const topic of topics) this.topics.add(topic);
    if (after === undefined && this.phase !== 'idle') {
      // More topics for the running stream, from now on; a replay under way lists them in its ready.
      if (this.phase === 'live') this.sendReady(0);
      return;
    }
    const generation = ++this.generation;
    this.phase = 'replaying';
    this.pending = [];
    const tail = this.context.tailPosition();
    let from = after === undefined ? null : decodeCursor(after);
    if (after !== undefined && !from) this.sendFrame({ type: 'reset', reason: 'malformed_cursor' });
    if (from) {
      const archived = await isArchivedAfter(this.context.db, from);
      if (generation !== this.generation) return;
      if (archived) {
        this.sendFrame({ type: 'reset', reason: 'cursor_expired' });
        from = null;
      }
    }
    let replayed = 0;
    this.last = from ?? tail;
    if (from) {
      const result = await this.replay(generation, from);
      if (result === 'stopped') return;
      // Too far behind: what the replay did not reach is skipped (the client refetches).
      if (result === 'too_far_behind') this.sendFrame({ type: 'reset', reason: 'too_far_behind' });
      else replayed = result;
    }
    // No await from here on: the hub cannot offer events between the flush and going live.
    const pending = this.pending;
    this.pending = [];
    this.phase = 'live';
    this.deliver(pending);
    // Everything up to the tail position was replayed (or, after a reset, is in the refetch).
    if (this.last && comparePositions(tail, this.last) > 0) this.last = tail;
    this.sendReady(replayed);
  }

  unsubscribe(topics: readonly Topic[]): void {
    for (const topic of topics) this.topics.delete(topic);
    this.sendFrame({ type: 'unsubscribed', topics: [...this.topics] });
  }

  sendFrame(frame: ServerFrame): boolean {
    const cursor = 'cursor' in frame ? frame.cursor : null;
    return this.sendRaw(JSON.stringify(frame), frame.type, cursor);
  }

  /** Ends the stream. With a close code, the transport is closed too (else the peer went away). */
  end(why: DisconnectReason, code?: number, reason?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.generation++;
    this.pending = [];
    this.context.metrics.disconnects.inc({ transport: this.transport.kind, reason: why });
    // A slow client still gets the close frame once it reads what is queued (bounded by the
    // limit); one that never reads is dropped by the transport's close timeout.
    if (code !== undefined) this.transport.close(code, reason ?? why);
    this.onEnd(this);
  }

  private deliver(events: readonly PresentedEvent[]): void {
    for (const event of events) {
      if (this.last && comparePositions(event.position, this.last) <= 0) continue;
      this.last = event.position;
      if (!wants(this.topics, event.topic)) continue;
      if (!this.sendRaw(event.eventFrame, 'event', event.cursor)) return;
      if (event.reminderFrame && this.topics.has('reminders') && !this.sendRaw(event.reminderFrame, 'reminder', event.cursor))
        return;
    }
  }

  /** Sends the user's events after `from`, page by page; the number sent, or why it stopped. */
  private async replay(generation: number, from: Position): Promise<number | 'stopped' | 'too_far_behind'> {
    const titles = createTitleCache(10_000);
    let after = from;
    let count = 0;
    for (;;) {
      const events = await readVisibleEventsAfter(this.context.db, this.user.id, { after, limit: REPLAY_PAGE });
      if (generation !== this.generation) return 'stopped';
      count += events.length;
      if (count > this.context.options.replayLimit) return 'too_far_behind';
      const presented = await presentEvents(this.context.db, this.user, events, titles);
      for (const event of presented) {
        if (!(await this.drained(generation))) return 'stopped';
        this.last = event.position;
        if (!wants(this.topics, event.topic)) continue;
        this.sendRaw(event.eventFrame, 'event', event.cursor);
        if (event.reminderFrame && this.topics.has('reminders')) this.sendRaw(event.reminderFrame, 'reminder', event.cursor);
      }
      const last = events.at(-1);
      if (!last || events.length < REPLAY_PAGE) return count;
      after = { txId: last.txId, seq: last.seq };
    }
  }

  /** Waits while the client has half the buffer limit unread; false if the stream ended meanwhile. */
  private async drained(generation: number): Promise<boolean> {
    const limit = this.context.options.maxBufferedBytes / 2;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.transport.bufferedBytes() > limit) {
      if (Date.now() > deadline) {
        this.end('slow_consumer', CLOSE.slowConsumer, 'slow_consumer');
        return false;
      }
      await delay(10);
      if (generation !== this.generation) return false;
    }
    return generation === this.generation;
  }

  private sendReady(replayed: number): void {
    this.sendFrame({
      type: 'ready',
      cursor: encodeCursor(this.last ?? this.context.tailPosition()),
      topics: [...this.topics],
      replayed,
    });
  }

  /** The one way out: refuses to queue beyond the limit (the connection ends instead). */
  private sendRaw(frame: string, type: string, cursor: string | null): boolean {
    if (this.ended) return false;
    if (this.transport.bufferedBytes() > this.context.options.maxBufferedBytes) {
      this.end('slow_consumer', CLOSE.slowConsumer, 'slow_consumer');
      return false;
    }
    this.transport.send(frame, cursor);
    this.context.metrics.framesSent.inc({ transport: this.transport.kind, type });
    return true;
  }
}
