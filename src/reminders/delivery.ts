// Delivery of fired reminders: three consumers of `reminder.fired`, each at-least-once
// from the event log and deduplicated by event id.
//
// - in-app inbox: a notifications row (unique event_id), exactly once with the checkpoint;
//   the real-time stream already carries the reminder.fired event itself (toast).
// - webhook: HTTPS POST signed with HMAC-SHA256 of `${timestamp}.${body}` under the user's
//   secret (X-TaskFlow-Signature: t=…,v1=…). A non-2xx reply or a network error throws, so
//   the runner retries with backoff and dead-letters after WEBHOOK_MAX_ATTEMPTS.
//   claimEventOnce runs in the handler's savepoint: a failed POST un-claims the event.
//   reminder.fired says which targets the user had when it fired (`targets`): the webhook
//   and push consumers skip the others without a query (most users have neither).
// - Web Push: VAPID-signed, encrypted push to every subscription of the user; 404/410
//   drop the subscription, other failures retry like the webhook.
import { createHmac, randomUUID } from 'node:crypto';
import webpush from 'web-push';
import type { Tx } from '../db/transaction.js';
import type { Consumer } from '../events/consumer.js';
import { claimEventOnce } from '../events/processed-events.js';
import type { StoredEvent } from '../events/types.js';

export interface DeliveryOptions {
  webhookMaxAttempts: number;
  webhookTimeoutMs: number;
  /** Allow http://127.0.0.1 / localhost webhook URLs (tests, local development). */
  allowHttpWebhooks: boolean;
  vapid: () => Promise<VapidKeys>;
}

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

export const SIGNATURE_HEADER = 'x-taskflow-signature';

/** The signature header value for a body sent at `timestamp` (seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export function inboxConsumer(): Consumer {
  const rowOf = (event: StoredEvent) => {
    const d = event.data as { reminder_id?: string; task_id?: string; task_title?: string; remind_at?: string };
    if (typeof d.task_id !== 'string') return null;
    return {
      id: randomUUID(),
      user_id: event.userId,
      event_id: event.eventId,
      reminder_id: d.reminder_id ?? event.aggregateId,
      task_id: d.task_id,
      title: d.task_title ?? '',
      remind_at: d.remind_at ? new Date(d.remind_at) : event.occurredAt,
      created_at: event.occurredAt,
    };
  };
  const insert = async (events: readonly StoredEvent[], tx: Tx) => {
    const rows = events.flatMap((e) => rowOf(e) ?? []);
    if (rows.length === 0) return;
    await tx.q
      .insertInto('notifications')
      .values(rows)
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  };
  return {
    name: 'reminder-inbox',
    partitions: 1,
    handles: ['reminder.fired'],
    handle: (event, tx) => insert([event], tx),
    // A burst of fired reminders is one multi-row INSERT per batch.
    handleBatch: insert,
  };
}

export function webhookConsumer(options: DeliveryOptions): Consumer {
  const name = 'reminder-webhook';
  return {
    name,
    partitions: 1,
    maxAttempts: options.webhookMaxAttempts,
    externalEffects: true,
    handles: ['reminder.fired'],
    async handle(event, tx) {
      if (!wanted(event, 'webhook')) return;
      const settings = await tx.q
        .selectFrom('reminder_settings')
        .select(['webhook_url', 'webhook_secret'])
        .where('user_id', '=', event.userId)
        .executeTakeFirst();
      if (!settings?.webhook_url || !settings.webhook_secret) return;
      if (!(await claimEventOnce(tx, name, event.eventId))) return;
      const url = new URL(settings.webhook_url);
      if (!allowed(url, options.allowHttpWebhooks)) return;
      const body = JSON.stringify({
        id: event.eventId,
        type: event.type,
        occurred_at: event.occurredAt.toISOString(),
        data: event.data,
      });
      const timestamp = Math.floor(Date.now() / 1000);
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'TaskFlow-Webhook/1',
          'x-taskflow-event-id': event.eventId,
          [SIGNATURE_HEADER]: signWebhook(settings.webhook_secret, timestamp, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.webhookTimeoutMs),
      });
      await res.body?.cancel();
      if (res.status < 200 || res.status >= 300) throw new Error(`webhook answered ${res.status}`);
    },
  };
}

export function pushConsumer(options: DeliveryOptions): Consumer {
  const name = 'reminder-push';
  return {
    name,
    partitions: 1,
    maxAttempts: options.webhookMaxAttempts,
    externalEffects: true,
    handles: ['reminder.fired'],
    async handle(event, tx) {
      if (!wanted(event, 'push')) return;
      const subs = await tx.q.selectFrom('push_subscriptions').selectAll().where('user_id', '=', event.userId).execute();
      if (subs.length === 0) return;
      if (!(await claimEventOnce(tx, name, event.eventId))) return;
      const vapid = await options.vapid();
      const payload = JSON.stringify({ type: event.type, event_id: event.eventId, data: event.data });
      for (const sub of subs) {
        // web-push builds the encrypted, VAPID-signed request; we send it with fetch (one
        // HTTP client for webhooks and push, and a loopback push service in tests).
        const request = webpush.generateRequestDetails(
          { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
          payload,
          { vapidDetails: vapid, TTL: 3600 },
        );
        if (!allowed(new URL(request.endpoint), options.allowHttpWebhooks)) continue;
        const res = await fetch(request.endpoint, {
          method: request.method,
          headers: { ...request.headers, 'x-taskflow-event-id': event.eventId } as Record<string, string>,
          body: request.body as Uint8Array<ArrayBuffer>,
          redirect: 'manual',
          signal: AbortSignal.timeout(options.webhookTimeoutMs),
        });
        await res.body?.cancel();
        // Gone: the browser unsubscribed. Other failures retry the whole event later
        // (endpoints that succeeded may see it twice; the event id header dedupes).
        if (res.status === 404 || res.status === 410) {
          await tx.q.deleteFrom('push_subscriptions').where('id', '=', sub.id).execute();
        } else if (res.status < 200 || res.status >= 300) {
          throw new Error(`push service answered ${res.status}`);
        }
      }
    },
  };
}

/**
 * Whether a delivery consumer acts on a fired reminder: the reminder's channel includes it,
 * and the user had that target when it fired (`targets`; events from before it say nothing,
 * and the consumer looks).
 */
function wanted(event: StoredEvent, name: 'webhook' | 'push'): boolean {
  const channel = event.data.channel;
  if (channel !== undefined && channel !== 'all' && channel !== name) return false;
  const targets = event.data.targets as Record<string, unknown> | undefined;
  return targets?.[name] !== false;
}

/** HTTPS, or plain HTTP to loopback when allowed (tests, local development). */
function allowed(url: URL, allowHttp: boolean): boolean {
  if (url.protocol === 'https:') return true;
  return allowHttp && url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** VAPID keys: from config when given, else generated once and kept in app_settings (shared by all instances). */
export function vapidKeyLoader(
  db: import('kysely').Kysely<import('../db/tables.js').DB>,
  config: { publicKey?: string | undefined; privateKey?: string | undefined; subject: string },
) {
  let cached: Promise<VapidKeys> | null = null;
  return () => {
    cached ??= (async () => {
      if (config.publicKey && config.privateKey) {
        return { publicKey: config.publicKey, privateKey: config.privateKey, subject: config.subject };
      }
      const fresh = webpush.generateVAPIDKeys();
      await db
        .insertInto('app_settings')
        .values({ key: 'vapid_keys', value: JSON.stringify(fresh) })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
      const row = await db.selectFrom('app_settings').select('value').where('key', '=', 'vapid_keys').executeTakeFirstOrThrow();
      const keys = JSON.parse(row.value) as { publicKey: string; privateKey: string };
      return { ...keys, subject: config.subject };
    })().catch((err: unknown) => {
      cached = null;
      throw err;
    });
    return cached;
  };
}
