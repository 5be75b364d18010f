// Real-time cursors: an opaque string for a position in the event log, (tx_id, seq) — the
// order in which tailers read it (read-events.ts). Resuming "after a cursor" is then the
// same gated read as a consumer's, so a client misses nothing that committed late.
// Pure; a string that is not a cursor we issued decodes to null (the client gets a reset).
import type { Position } from '../events/read-events.js';

const SHAPE = /^v1\.(\d{1,20})\.(\d{1,19})$/;

export function encodeCursor(position: Position): string {
  return Buffer.from(`v1.${position.txId}.${position.seq}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position | null {
  if (cursor.length === 0 || cursor.length > 80) return null;
  const match = SHAPE.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  if (!match?.[1] || !match[2]) return null;
  return { txId: match[1], seq: match[2] };
}
