// How a search text becomes a tsquery. Pure: it only decides which parts go to which
// PostgreSQL function; every part is bound as a parameter (task-query.ts).
//
// - Everything is `websearch_to_tsquery('english', …)`: "quoted phrase", -exclude, or.
// - Search-as-you-type: the last word, when it is still being typed (no space after it, not
//   quoted, not excluded, not after `or`), also matches as a prefix. The document holds
//   English stems ("running" → run), so a prefix of the *word* can be longer than its stem
//   ("runnin" does not start "run"). The last word therefore matches when its stem matches
//   exactly, or a stem starts with it, or a stem equals one of its truncations down to half
//   its length: `to_tsquery('english','runnin') || to_tsquery('simple','runnin:* | runni | runn | run')`.
//   Measured on a 100k-task user this costs nothing visible (docs/adr/0005-search.md).

export interface TextQueryPlan {
  /** No letter or digit at all: matches nothing (an empty tsquery matches nothing either). */
  matchesNothing: boolean;
  /** For websearch_to_tsquery('english', …); null when only the prefix word remains. */
  websearch: string | null;
  /** The last word as typed, and its `simple` prefix query text. */
  prefix: { word: string; simple: string } | null;
}

const WORD = /[\p{L}\p{N}]/u;
const LAST_WORD = /(^|\s)([\p{L}\p{N}]+)$/u;
const MAX_PREFIX_WORD = 40;
const MIN_TRUNCATION = 3;

export function planTextQuery(text: string): TextQueryPlan {
  if (!WORD.test(text)) return { matchesNothing: true, websearch: null, prefix: null };
  const last = LAST_WORD.exec(text);
  const word = last?.[2];
  const head = last ? text.slice(0, last.index + (last[1] ?? '').length) : text;
  const previous = head.trim().split(/\s+/).at(-1)?.toLowerCase();
  const insideQuotes = (head.match(/"/g)?.length ?? 0) % 2 === 1;
  if (!word || insideQuotes || previous === 'or' || word.toLowerCase() === 'or' || [...word].length > MAX_PREFIX_WORD) {
    return { matchesNothing: false, websearch: text, prefix: null };
  }
  return {
    matchesNothing: false,
    websearch: WORD.test(head) ? head : null,
    prefix: { word, simple: prefixQueryText(word) },
  };
}

/** `runnin:* | runni | runn | run`: the word as a prefix, or any truncation to half its length. */
export function prefixQueryText(word: string): string {
  const chars = [...word.toLowerCase()];
  const shortest = Math.max(MIN_TRUNCATION, Math.ceil(chars.length / 2));
  const parts = [`${chars.join('')}:*`];
  for (let n = chars.length - 1; n >= shortest; n--) parts.push(chars.slice(0, n).join(''));
  return parts.join(' | ');
}
