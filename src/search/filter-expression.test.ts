import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Filter } from './filter.js';
import { FilterSyntaxError, MAX_FILTER_DEPTH, parseFilterExpression } from './filter-expression.js';

const day = (offsetDays: number, date: string | null = null) => ({ day: { date, offsetDays } });
const dueOn = (offsetDays: number): Filter => ({ kind: 'due', range: { from: day(offsetDays), until: day(offsetDays + 1) } });

function syntaxError(source: string): FilterSyntaxError {
  try {
    parseFilterExpression(source);
  } catch (err) {
    if (err instanceof FilterSyntaxError) return err;
    throw err;
  }
  throw new Error(`expected a syntax error for ${JSON.stringify(source)}`);
}

describe('parseFilterExpression', () => {
  it('reads the issue’s example with Todoist precedence: ! binds tightest, then &, then |', () => {
    expect(parseFilterExpression('(today | overdue) & #work & !p4')).toEqual({
      kind: 'all',
      of: [
        { kind: 'any', of: [dueOn(0), { kind: 'overdue' }] },
        { kind: 'tag', name: 'work' },
        { kind: 'not', filter: { kind: 'priority', priorities: ['low', 'none'] } },
      ],
    });
    expect(parseFilterExpression('today | overdue & p1')).toEqual({
      kind: 'any',
      of: [dueOn(0), { kind: 'all', of: [{ kind: 'overdue' }, { kind: 'priority', priorities: ['urgent'] }] }],
    });
  });

  it('reads relative and absolute dates after due/created/completed before:, after: and on', () => {
    expect(parseFilterExpression('due before: +7 days & no tags')).toEqual({
      kind: 'all',
      of: [{ kind: 'due', range: { until: day(7) } }, { kind: 'untagged' }],
    });
    expect(parseFilterExpression('due after: 2026-12-24')).toEqual({
      kind: 'due',
      range: { from: day(1, '2026-12-24') },
    });
    expect(parseFilterExpression('DUE: tomorrow')).toEqual(dueOn(1));
    expect(parseFilterExpression('created after: -2 weeks')).toEqual({ kind: 'created', range: { from: day(-13) } });
    expect(parseFilterExpression('completed before: yesterday')).toEqual({
      kind: 'completed',
      range: { until: day(-1) },
    });
    expect(parseFilterExpression('due before: in 3 days')).toEqual({ kind: 'due', range: { until: day(3) } });
  });

  it('knows the date shortcuts, priorities and tag forms', () => {
    expect(parseFilterExpression('next 7 days')).toEqual({ kind: 'due', range: { from: day(0), until: day(7) } });
    expect(parseFilterExpression('3 days')).toEqual({ kind: 'due', range: { from: day(0), until: day(3) } });
    expect(parseFilterExpression('yesterday')).toEqual(dueOn(-1));
    expect(parseFilterExpression('od')).toEqual({ kind: 'overdue' });
    expect(parseFilterExpression('no date')).toEqual({ kind: 'undated' });
    expect(parseFilterExpression('no due date')).toEqual({ kind: 'undated' });
    expect(parseFilterExpression('no labels')).toEqual({ kind: 'untagged' });
    expect(parseFilterExpression('priority: high')).toEqual({ kind: 'priority', priorities: ['high'] });
    expect(parseFilterExpression('priority:p2')).toEqual({ kind: 'priority', priorities: ['high'] });
    expect(parseFilterExpression('p3')).toEqual({ kind: 'priority', priorities: ['medium'] });
    expect(parseFilterExpression('@home')).toEqual({ kind: 'tag', name: 'home' });
    expect(parseFilterExpression('#"deep work" | #a-b')).toEqual({
      kind: 'any',
      of: [
        { kind: 'tag', name: 'deep work' },
        { kind: 'tag', name: 'a-b' },
      ],
    });
    expect(parseFilterExpression('all')).toEqual({ kind: 'all', of: [] });
    expect(parseFilterExpression('recurring & has reminders | no reminder')).toEqual({
      kind: 'any',
      of: [
        { kind: 'all', of: [{ kind: 'recurring' }, { kind: 'reminded' }] },
        { kind: 'not', filter: { kind: 'reminded' } },
      ],
    });
  });

  it('takes search: text up to the next unquoted operator, quotes included', () => {
    expect(parseFilterExpression('search: pay "the rent" -late & #home')).toEqual({
      kind: 'all',
      of: [
        { kind: 'text', query: 'pay "the rent" -late' },
        { kind: 'tag', name: 'home' },
      ],
    });
    expect(parseFilterExpression('(search: "a & b")')).toEqual({ kind: 'text', query: '"a & b"' });
  });

  it('treats a blank expression as no filter', () => {
    expect(parseFilterExpression('')).toBeNull();
    expect(parseFilterExpression('   \t ')).toBeNull();
  });

  it('keeps injection attempts as literal values or refuses them; nothing is ever SQL', () => {
    expect(parseFilterExpression('#%_\\')).toEqual({ kind: 'tag', name: '%_\\' });
    expect(parseFilterExpression('#"\'; drop table tasks; --"')).toEqual({ kind: 'tag', name: "'; drop table tasks; --" });
    expect(parseFilterExpression("search: '; drop table tasks; --")).toEqual({ kind: 'text', query: "'; drop table tasks; --" });
    expect(syntaxError("'; drop table tasks; --")).toMatchObject({ column: 1 });
    expect(syntaxError("'; drop table tasks; --").message).toContain("unknown filter term '';'");
    expect(syntaxError("#'; drop table tasks; --")).toMatchObject({ column: 5 });
  });

  for (const [source, column, message] of [
    ['today &', 8, 'expected a filter term, found the end'],
    ['today & & p1', 9, "expected a filter term, found '&'"],
    ['(today | overdue', 17, "missing ')' to close the '(' at column 1"],
    ['today)', 6, "unexpected ')'"],
    ['today tomorrow', 7, "expected '&', '|' or the end, found 'tomorrow'"],
    ['tody', 1, "unknown filter term 'tody'"],
    ['due before: soon', 13, 'expected a date'],
    ['due: 2026-02-30', 6, '2026-02-30 is not a real date'],
    ['priority: huge', 11, 'expected a priority'],
    ['p5', 1, "unknown filter term 'p5'"],
    ['#', 2, "expected a tag name after '#'"],
    ['search: "unclosed', 9, "unterminated '\"'"],
    ['search: ', 9, "expected text after 'search:'"],
    ['!', 2, 'expected a filter term, found the end'],
    ['has reminder soon', 14, "expected '&', '|' or the end, found 'soon'"],
    ['%_\\', 1, "unknown filter term '%_\\'"],
  ] as const) {
    it(`refuses ${JSON.stringify(source)} at column ${column}`, () => {
      const err = syntaxError(source);
      expect(err.column).toBe(column);
      expect(err.message).toContain(message);
    });
  }

  it('limits nesting and the number of terms', () => {
    expect(syntaxError(`${'('.repeat(MAX_FILTER_DEPTH + 1)}today${')'.repeat(MAX_FILTER_DEPTH + 1)}`).message).toContain(
      'nested more than',
    );
    expect(syntaxError(Array.from({ length: 51 }, () => 'p1').join(' | ')).message).toContain('more than 50 terms');
  });

  it('never throws anything but a FilterSyntaxError, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (source) => {
        try {
          parseFilterExpression(source);
        } catch (err) {
          expect(err).toBeInstanceOf(FilterSyntaxError);
          const column = (err as FilterSyntaxError).column;
          expect(column).toBeGreaterThanOrEqual(1);
          expect(column).toBeLessThanOrEqual(source.length + 1);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
