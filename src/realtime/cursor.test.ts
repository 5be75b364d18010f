import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePositions } from '../events/read-events.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { topicOf, wants } from './present.js';

const position = fc.record({
  txId: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
  seq: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String),
});

describe('real-time cursors', () => {
  it('decode what they encode, for any 64-bit position', () => {
    fc.assert(
      fc.property(position, (p) => {
        expect(decodeCursor(encodeCursor(p))).toEqual(p);
      }),
    );
  });

  it('order positions by tx_id, then seq, as BigInts (not as strings)', () => {
    expect(comparePositions({ txId: '9', seq: '100' }, { txId: '10', seq: '1' })).toBeLessThan(0);
    expect(comparePositions({ txId: '10', seq: '2' }, { txId: '10', seq: '11' })).toBeLessThan(0);
    expect(comparePositions({ txId: '10', seq: '11' }, { txId: '10', seq: '11' })).toBe(0);
    fc.assert(
      fc.property(position, position, (a, b) => {
        const expected =
          BigInt(a.txId) === BigInt(b.txId)
            ? Math.sign(Number(BigInt(a.seq) - BigInt(b.seq)))
            : BigInt(a.txId) < BigInt(b.txId)
              ? -1
              : 1;
        expect(comparePositions(a, b)).toBe(expected);
      }),
    );
  });

  it('reject anything the server did not issue', () => {
    for (const bad of ['', 'garbage', 'djEuMS4', encodeCursor({ txId: '1', seq: '2' }).slice(0, -2), 'x'.repeat(100)]) {
      expect(decodeCursor(bad), bad).toBeNull();
    }
    expect(decodeCursor(Buffer.from('v1.-1.2').toString('base64url'))).toBeNull();
    expect(decodeCursor(Buffer.from('v2.1.2').toString('base64url'))).toBeNull();
  });
});

describe('real-time topics', () => {
  it('route task, tag, list and view changes to tasks, reminder events to reminders, the rest to activity', () => {
    expect(topicOf({ type: 'task.completed', aggregateType: 'task' })).toBe('tasks');
    expect(topicOf({ type: 'tag.created', aggregateType: 'tag' })).toBe('tasks');
    expect(topicOf({ type: 'reminder.fired' as never, aggregateType: 'task' })).toBe('reminders');
    expect(topicOf({ type: 'user.registered', aggregateType: 'user' })).toBe('activity');
  });

  it('deliver every topic to an activity subscriber', () => {
    expect(wants(new Set(['activity']), 'reminders')).toBe(true);
    expect(wants(new Set(['tasks']), 'reminders')).toBe(false);
  });
});
