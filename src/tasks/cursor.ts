// Opaque keyset cursors: base64url JSON of the last row's sort key. A malformed cursor is
// the client's mistake (422 naming query.cursor), never a 500.
import { z } from 'zod';
import { ValidationFailed } from '../errors.js';

const cursorShape = z.object({ createdAt: z.iso.datetime(), id: z.uuid() });
export type TaskCursor = z.infer<typeof cursorShape>;

export function encodeCursor(c: TaskCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(s: string): TaskCursor {
  try {
    return cursorShape.parse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
  } catch {
    throw new ValidationFailed('The cursor is not one this API returned', {
      errors: [{ field: 'query.cursor', message: 'is malformed' }],
    });
  }
}
