// Idempotency-Key for POST. The key row is inserted in the SAME transaction as the
// mutation it guards: a concurrent duplicate blocks on the unique index until the first
// commits, then reads its stored response. No window in which both create a task.
import { createHash } from 'node:crypto';
import type { Tx } from '../db/transaction.js';
import { IdempotencyKeyReused } from '../errors.js';

export interface IdempotencyRequest {
  key: string;
  /** Hash of what the request asks for (method, route, body): same key + other body = error. */
  requestHash: string;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

export function hashRequest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Claims the key for this transaction, or returns the response stored by the first request. */
export async function claimIdempotencyKey(tx: Tx, userId: string, req: IdempotencyRequest): Promise<StoredResponse | null> {
  const claimed = await tx.q
    .insertInto('idempotency_keys')
    .values({ user_id: userId, key: req.key, request_hash: req.requestHash, response_status: 0, response_body: 'null' })
    .onConflict((oc) => oc.columns(['user_id', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (claimed) return null;
  const existing = await tx.q
    .selectFrom('idempotency_keys')
    .select(['request_hash', 'response_status', 'response_body'])
    .where('user_id', '=', userId)
    .where('key', '=', req.key)
    .executeTakeFirstOrThrow();
  if (existing.request_hash !== req.requestHash) {
    throw new IdempotencyKeyReused('This Idempotency-Key was already used for a different request', {
      errors: [{ field: 'Idempotency-Key', message: 'was used with another request body' }],
    });
  }
  return { status: existing.response_status, body: existing.response_body };
}

export async function saveIdempotentResponse(tx: Tx, userId: string, key: string, response: StoredResponse): Promise<void> {
  await tx.q
    .updateTable('idempotency_keys')
    .set({ response_status: response.status, response_body: JSON.stringify(response.body) })
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .execute();
}
