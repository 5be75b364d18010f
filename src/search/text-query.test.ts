import { describe, expect, it } from 'vitest';
import { planTextQuery, prefixQueryText } from './text-query.js';

describe('planTextQuery', () => {
  it('matches the last word being typed as a prefix, and its truncations down to half', () => {
    expect(planTextQuery('pay runnin')).toEqual({
      matchesNothing: false,
      websearch: 'pay ',
      prefix: { word: 'runnin', simple: 'runnin:* | runni | runn | run' },
    });
    expect(planTextQuery('Inv')).toEqual({ matchesNothing: false, websearch: null, prefix: { word: 'Inv', simple: 'inv:*' } });
  });

  it('leaves finished, quoted, excluded and or-ed words to websearch alone', () => {
    for (const text of ['invoice ', '"pay rent"', 'pay "the rent', 'invoice -paid', 'rent or invoice', 'invoice or', 'e-mail']) {
      expect(planTextQuery(text)).toEqual({ matchesNothing: false, websearch: text, prefix: null });
    }
  });

  it('matches nothing without a single letter or digit', () => {
    for (const text of ['%_\\', "'; --", '!!!', '"" -']) expect(planTextQuery(text).matchesNothing).toBe(true);
    expect(planTextQuery("'; drop table tasks; --")).toMatchObject({ matchesNothing: false, prefix: null });
  });

  it('handles letters beyond ASCII by code point', () => {
    expect(prefixQueryText('Straße')).toBe('straße:* | straß | stra | str');
    expect(prefixQueryText('日本語')).toBe('日本語:*');
  });
});
