import { describe, expect, it } from 'vitest';
import { ValidationFailed } from '../errors.js';
import { decodePageCursor, encodePageCursor, queryFingerprint } from './sort.js';

const id = '0b4f3c2e-8a51-4d7e-9a0c-3f6e2d1b5a79';

describe('page cursors', () => {
  it('round-trip the sort key, including a null due date', () => {
    for (const cursor of [
      { sort: 'due' as const, order: 'asc' as const, key: null, id, query: 'q1' },
      { sort: 'created' as const, order: 'desc' as const, key: '2026-01-02T03:04:05.123456Z', id, query: 'q1' },
      { sort: 'rank' as const, order: 'desc' as const, key: '0.6079271', id, query: 'q1' },
      { sort: 'title' as const, order: 'asc' as const, key: 'o\'brien " %_\\', id, query: 'q1' },
    ]) {
      expect(decodePageCursor(encodePageCursor(cursor), cursor)).toEqual(cursor);
    }
  });

  it('refuse a cursor of another sort, order or query, and forged keys, as 422 on query.cursor', () => {
    const cursor = { sort: 'created' as const, order: 'desc' as const, key: '2026-01-02T03:04:05.123456Z', id, query: 'q1' };
    const text = encodePageCursor(cursor);
    const forged = (k: unknown, s = 'created') =>
      Buffer.from(JSON.stringify({ s, o: 'desc', k, i: id, q: 'q1' })).toString('base64url');
    for (const [given, expected] of [
      [text, { ...cursor, order: 'asc' as const }],
      [text, { ...cursor, sort: 'updated' as const }],
      [text, { ...cursor, query: 'q2' }],
      ['garbage', cursor],
      [forged("2026-01-01'; drop table tasks"), cursor],
      [forged(null), cursor],
      [forged('9', 'priority'), { ...cursor, sort: 'priority' as const }],
    ] as const) {
      const attempt = () => decodePageCursor(given, expected);
      expect(attempt).toThrow(ValidationFailed);
      try {
        attempt();
      } catch (err) {
        expect((err as ValidationFailed).errors).toEqual([{ field: 'query.cursor', message: expect.any(String) }]);
      }
    }
  });

  it('fingerprints equal queries alike and different ones apart', () => {
    expect(queryFingerprint({ a: 1, b: ['x'] })).toBe(queryFingerprint({ a: 1, b: ['x'] }));
    expect(queryFingerprint({ a: 1, b: ['x'] })).not.toBe(queryFingerprint({ a: 1, b: ['y'] }));
  });
});
