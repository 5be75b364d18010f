// Optimistic concurrency over HTTP: the task version is the ETag; If-Match carries the
// version the client last saw. Also the Idempotency-Key header for POST.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ValidationFailed } from '../errors.js';

export function setVersionETag(reply: FastifyReply, version: number): void {
  reply.header('etag', `"${version}"`);
}

/** The version named by If-Match ("3", W/"3" or 3), undefined without the header or with "*". */
export function expectedVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  if (!match) {
    throw new ValidationFailed('If-Match must be an ETag this API returned, such as "3"', {
      errors: [{ field: 'header.if-match', message: 'is not a version ETag' }],
    });
  }
  return Number(match[1]);
}

export function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(key)) {
    throw new ValidationFailed('Idempotency-Key must be 1-200 printable ASCII characters', {
      errors: [{ field: 'header.idempotency-key', message: 'is malformed' }],
    });
  }
  return key;
}
