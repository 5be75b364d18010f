// The real-time protocol (docs/realtime.md): what a client may send over the WebSocket, and
// every frame the server sends on either transport. The typed client (src/client) and the
// web UI import these types; the server validates inbound messages with these schemas.
import { z } from 'zod';
import type { ActivityEntry } from '../activity/schema.js';

export const TOPICS = ['tasks', 'reminders', 'activity'] as const;
export const topicSchema = z.enum(TOPICS);
export type Topic = z.infer<typeof topicSchema>;

const topics = z.array(topicSchema).min(1).max(TOPICS.length);
const cursor = z.string().min(1).max(200);

export const clientMessageSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('auth'), token: z.string().min(1).max(4096) }).strict(),
  z.object({ action: z.literal('subscribe'), topics, after: cursor.optional() }).strict(),
  z.object({ action: z.literal('unsubscribe'), topics }).strict(),
  z.object({ action: z.literal('ping') }).strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

/** A task reminder that fired, for a toast (from a reminder.fired event). */
export interface ReminderNotice {
  event_id: string;
  task_id: string | null;
  title: string | null;
  occurred_at: string;
  summary: string;
  data: Record<string, unknown>;
}

export type ServerFrame =
  /** One event of the log, presented as in the activity feed; `cursor` resumes after it. */
  | { type: 'event'; topic: Topic; cursor: string; event: ActivityEntry }
  /** Also sent (topic reminders) for a reminder.fired event, after its event frame. */
  | { type: 'reminder'; cursor: string; reminder: ReminderNotice }
  /** Replay is over: what follows is live. `cursor` covers everything before it. */
  | { type: 'ready'; cursor: string; topics: Topic[]; replayed: number }
  | { type: 'unsubscribed'; topics: Topic[] }
  /** The cursor is malformed or older than retention: refetch state; live events follow `ready`. */
  | { type: 'reset'; reason: 'malformed_cursor' | 'cursor_expired' | 'too_far_behind' }
  | { type: 'pong' }
  | { type: 'error'; code: ErrorCode; message: string };

export type ErrorCode =
  | 'bad_message'
  | 'rate_limited'
  | 'already_authenticated'
  /** SSE only, as the last frame before the server ends the stream (WebSocket: the close reason). */
  | 'token_expired'
  | 'token_revoked'
  | 'shutting_down'
  | 'internal_error';

/** WebSocket close codes (4000-4999 are the application's): stable, documented. */
export const CLOSE = {
  /** Graceful shutdown of the server (RFC 6455). */
  goingAway: 1001,
  /** A message over REALTIME_MAX_MESSAGE_BYTES (RFC 6455, sent by ws itself). */
  tooBig: 1009,
  /** The server could not present events (a database error): reconnect and resume. */
  internalError: 1011,
  /** The send buffer passed REALTIME_MAX_BUFFERED_BYTES: reconnect and resume. */
  slowConsumer: 4008,
  /** Reason: auth_required | auth_timeout | token_expired | token_invalid | token_revoked. */
  unauthorized: 4401,
  /** Reason: too_many_connections | rate_limited. */
  tooMany: 4429,
} as const;
