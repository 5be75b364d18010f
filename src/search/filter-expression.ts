// The filter expression language, as Todoist users write it: `(today | overdue) & #work & !p4`,
// `due before: +7 days & no tags`, `search: invoice`. A small recursive-descent parser over
// the raw text; the output is a `Filter` tree of literal values (names, dates, words) that
// the query builder binds as parameters, so no input can change the SQL's shape. Errors
// carry the 1-based column they were found at. Grammar: docs/filters.md.
import type { Priority } from '../tasks/schema.js';
import { ALWAYS, type DayRef, type Filter, nextDay, onDate, today } from './filter.js';

export class FilterSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based position in the expression (one past the end for "unexpected end"). */
    readonly column: number,
  ) {
    super(`${message} (column ${column})`);
    this.name = 'FilterSyntaxError';
  }
}

export const MAX_FILTER_DEPTH = 20;
export const MAX_FILTER_TERMS = 50;

/** Parses an expression; null when it is blank (no filter). Throws FilterSyntaxError. */
export function parseFilterExpression(source: string): Filter | null {
  return new Parser(source).parse();
}

// p1 is the most urgent, as in Todoist; p4 is Todoist's "no priority", so it covers our two
// lowest levels (`priority: low` or `priority: none` pick one of them).
const P_LEVELS: Record<string, Priority[]> = {
  p1: ['urgent'],
  p2: ['high'],
  p3: ['medium'],
  p4: ['low', 'none'],
};
const PRIORITY_NAMES = ['none', 'low', 'medium', 'high', 'urgent'] as const;

class Parser {
  private pos = 0;
  private depth = 0;
  private terms = 0;

  constructor(private readonly src: string) {}

  parse(): Filter | null {
    this.skipSpace();
    if (this.atEnd()) return null;
    const filter = this.parseOr();
    this.skipSpace();
    if (!this.atEnd()) {
      if (this.peek() === ')') this.fail("unexpected ')' without a matching '('");
      this.fail(`expected '&', '|' or the end, found ${this.describeHere()}`);
    }
    return filter;
  }

  private parseOr(): Filter {
    const parts = [this.parseAnd()];
    while (this.skipSpace() && this.peek() === '|') {
      this.pos++;
      parts.push(this.parseAnd());
    }
    return parts.length === 1 ? (parts[0] as Filter) : { kind: 'any', of: parts };
  }

  private parseAnd(): Filter {
    const parts = [this.parseUnary()];
    while (this.skipSpace() && this.peek() === '&') {
      this.pos++;
      parts.push(this.parseUnary());
    }
    return parts.length === 1 ? (parts[0] as Filter) : { kind: 'all', of: parts };
  }

  private parseUnary(): Filter {
    this.skipSpace();
    const c = this.peek();
    if (c === '!') {
      this.pos++;
      return { kind: 'not', filter: this.nested(() => this.parseUnary()) };
    }
    if (c === '(') {
      const open = this.pos;
      this.pos++;
      const inner = this.nested(() => this.parseOr());
      this.skipSpace();
      if (this.peek() !== ')') this.fail(`missing ')' to close the '(' at column ${open + 1}`);
      this.pos++;
      return inner;
    }
    return this.parseTerm();
  }

  private nested(parse: () => Filter): Filter {
    if (++this.depth > MAX_FILTER_DEPTH) this.fail(`nested more than ${MAX_FILTER_DEPTH} levels deep`);
    const filter = parse();
    this.depth--;
    return filter;
  }

  private parseTerm(): Filter {
    if (this.atEnd()) this.fail('expected a filter term, found the end');
    if ('&|)'.includes(this.peek())) this.fail(`expected a filter term, found '${this.peek()}'`);
    if (++this.terms > MAX_FILTER_TERMS) this.fail(`more than ${MAX_FILTER_TERMS} terms`);

    if (this.eat(/search\s*:\s*/iy)) return { kind: 'text', query: this.readText('search:') };

    const dated = this.eat(/(due|created|completed)(?:\s+(before|after))?\s*:\s*/iy);
    if (dated) {
      const field = (dated[1] as string).toLowerCase() as 'due' | 'created' | 'completed';
      const day = this.readDay(dated[0].trim());
      const relation = dated[2]?.toLowerCase();
      const range =
        relation === 'before'
          ? { until: { day } }
          : relation === 'after'
            ? { from: { day: nextDay(day) } }
            : { from: { day }, until: { day: nextDay(day) } };
      return { kind: field, range };
    }

    if (this.eat(/priority\s*:\s*/iy)) {
      const level = this.eatWord(/(none|low|medium|high|urgent|p[1-4])/iy);
      if (!level) this.fail(`expected a priority (${PRIORITY_NAMES.join(', ')} or p1-p4), found ${this.describeHere()}`);
      const name = (level[1] as string).toLowerCase();
      return { kind: 'priority', priorities: P_LEVELS[name] ?? [name as Priority] };
    }
    const p = this.eatWord(/p([1-4])/iy);
    if (p) return { kind: 'priority', priorities: P_LEVELS[`p${p[1]}`] as Priority[] };

    if (this.eatWord(/no\s+(?:due\s+)?dates?/iy)) return { kind: 'undated' };
    if (this.eatWord(/no\s+(?:tags|labels)/iy)) return { kind: 'untagged' };
    const days = this.eatWord(/(?:next\s+)?(\d{1,3})\s+days?/iy);
    if (days) return { kind: 'due', range: { from: { day: today() }, until: { day: today(Number(days[1])) } } };
    const named = this.eatWord(/(today|tomorrow|yesterday)/iy);
    if (named) {
      const day = namedDay(named[1] as string);
      return { kind: 'due', range: { from: { day }, until: { day: nextDay(day) } } };
    }
    if (this.eatWord(/(?:overdue|od)/iy)) return { kind: 'overdue' };
    if (this.eatWord(/recurring/iy)) return { kind: 'recurring' };
    if (this.eatWord(/has\s+reminders?/iy)) return { kind: 'reminded' };
    if (this.eatWord(/no\s+reminders?/iy)) return { kind: 'not', filter: { kind: 'reminded' } };
    if (this.eatWord(/all/iy)) return ALWAYS;

    if (this.peek() === '#' || this.peek() === '@') {
      this.pos++;
      return { kind: 'tag', name: this.readName() };
    }
    this.fail(`unknown filter term ${this.describeHere()}`);
  }

  /** A tag name after # or @: a "quoted name", or everything up to a space or operator. */
  private readName(): string {
    const quoted = this.eat(/"([^"]*)"/y);
    const raw = quoted ? (quoted[1] as string) : (this.eat(/[^\s&|()]+/y)?.[0] ?? '');
    const name = raw.trim();
    if (!name) this.fail(`expected a tag name after '${this.src[this.pos - 1]}'`);
    if (name.length > 100) this.fail('a tag name has at most 100 characters');
    return name;
  }

  /** The text of `search:`: up to an unquoted &, | or ), quotes kept (they are phrases). */
  private readText(keyword: string): string {
    const start = this.pos;
    let quoteAt = -1;
    while (!this.atEnd()) {
      const c = this.peek();
      if (c === '"') quoteAt = quoteAt < 0 ? this.pos : -1;
      else if (quoteAt < 0 && '&|)'.includes(c)) break;
      this.pos++;
    }
    if (quoteAt >= 0) {
      this.pos = quoteAt;
      this.fail("unterminated '\"'");
    }
    const text = this.src.slice(start, this.pos).trim();
    if (!text) {
      this.pos = start;
      this.fail(`expected text after '${keyword}'`);
    }
    return text;
  }

  /** YYYY-MM-DD, today, tomorrow, yesterday, or [+-]N day(s)/week(s) from today. */
  private readDay(after: string): DayRef {
    const iso = this.eatWord(/(\d{4})-(\d{2})-(\d{2})/y);
    if (iso) {
      if (!isRealDate(Number(iso[1]), Number(iso[2]), Number(iso[3]))) {
        this.pos -= iso[0].length;
        this.fail(`${iso[0]} is not a real date`);
      }
      return onDate(iso[0]);
    }
    const named = this.eatWord(/(today|tomorrow|yesterday)/iy);
    if (named) return namedDay(named[1] as string);
    const relative = this.eatWord(/(?:in\s+)?([+-]?)\s*(\d{1,4})\s*(days?|weeks?)/iy);
    if (relative) {
      const n = Number(relative[2]) * (relative[3]?.toLowerCase().startsWith('w') ? 7 : 1);
      return today(relative[1] === '-' ? -n : n);
    }
    this.fail(
      `expected a date after '${after}' (YYYY-MM-DD, today, tomorrow, yesterday, +3 days, -2 weeks), found ${this.describeHere()}`,
    );
  }

  /** Matches `re` (sticky) here; advances past it. */
  private eat(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.src);
    if (m) this.pos += m[0].length;
    return m;
  }

  /** Like eat, but only a whole word: the match must end at a space, an operator or the end. */
  private eatWord(re: RegExp): RegExpExecArray | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.src);
    if (!m) return null;
    const next = this.src[this.pos + m[0].length];
    if (next !== undefined && !/[\s&|()]/.test(next)) return null;
    this.pos += m[0].length;
    return m;
  }

  private skipSpace(): true {
    while (!this.atEnd() && /\s/.test(this.peek())) this.pos++;
    return true;
  }

  private describeHere(): string {
    if (this.atEnd()) return 'the end';
    const word = /[^\s&|()]+/y;
    word.lastIndex = this.pos;
    const found = word.exec(this.src)?.[0] ?? this.peek();
    return `'${found.length > 30 ? `${found.slice(0, 29)}…` : found}'`;
  }

  private peek(): string {
    return this.src[this.pos] ?? '';
  }

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private fail(message: string): never {
    throw new FilterSyntaxError(message, this.pos + 1);
  }
}

function namedDay(word: string): DayRef {
  const offset = { today: 0, tomorrow: 1, yesterday: -1 }[word.toLowerCase()] ?? 0;
  return today(offset);
}

function isRealDate(y: number, m: number, d: number): boolean {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
