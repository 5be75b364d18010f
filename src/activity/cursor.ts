// Opaque activity cursors: base64url JSON of an event's seq. The feed pages by `seq <`, so
// a page boundary never drops or repeats an event. A malformed cursor is a 422, never a 500.
import { z } from 'zod';
import { ValidationFailed } from '../errors.js';

const cursorShape = z.object({ seq: z.string().regex(/^\d{1,19}$/) });

export function encodeActivityCursor(seq: string): string {
  return Buffer.from(JSON.stringify({ seq })).toString('base64url');
}

export function decodeActivityCursor(cursor: string): string {
  try {
    return cursorShape.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).seq;
  } catch {
    throw new ValidationFailed('The cursor is not one this API returned', {
      errors: [{ field: 'cursor', message: 'is malformed' }],
    });
  }
}
