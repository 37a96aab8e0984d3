/**
 * Route regexes come from tenant-editable rows, so each is vetted once, when the index is built, and never
 * evaluated unless it passed. The subject is always the destination's E.164 digits — at most 15 ASCII digits —
 * which bounds even an exponential pattern that slipped through these checks to 2^15 steps per test; the checks
 * still exist because a pattern evaluated on every call must be cheap, not merely finite.
 */
import safeRegex from 'safe-regex2';

/** Longer patterns are refused as unsafe: a routing regex for ≤15 digits has no reason to be long. */
export const MAX_REGEX_LENGTH = 256;
/**
 * Most variable-width quantifiers (`? * + {n,} {n,m}`) in one pattern. Adjacent ones that can match the same
 * digits backtrack polynomially — degree = their count: `\d*` ×6 then `2` took 12 ms on 15 digits, ×12 2.9 s —
 * and safe-regex2 (star height only) passes them. Four keep the worst case well under a millisecond; real
 * routing patterns use one or two (`^44\d{9,10}$`, `^\+?1?\d{10}$`).
 */
export const MAX_VARIABLE_QUANTIFIERS = 4;
/** Printable ASCII only: control characters or non-ASCII in a pattern for digits means corrupt data. */
const PRINTABLE_ASCII_RE = /^[\x20-\x7e]+$/;
/** Backreferences (`\1`, `\k<name>`) and lookbehind: not needed to match digits, and expensive to evaluate. */
const FORBIDDEN_CONSTRUCT_RE = /\\[1-9]|\\k<|\(\?<[=!]/;

export type CompiledRegex =
  | { readonly ok: true; readonly regex: RegExp; readonly literalPrefix: string; readonly literalPrefixes: readonly string[] }
  | { readonly ok: false; readonly reason: 'regex_invalid' | 'regex_unsafe' };

/**
 * Compiles a route pattern (no flags; `RegExp.test` semantics, so an unanchored pattern matches anywhere in
 * the digits). Refused as `regex_invalid` when empty, non-printable or not compilable; as `regex_unsafe` when
 * longer than {@link MAX_REGEX_LENGTH}, using backreferences or lookbehind, repeating an alternation (see
 * {@link hasQuantifiedAlternation}), or judged capable of catastrophic backtracking by safe-regex2 (star
 * height > 1, e.g. `(\d+)+`). Never throws.
 */
export function compileRouteRegex(pattern: string | null): CompiledRegex {
  if (pattern === null || pattern.length === 0) return { ok: false, reason: 'regex_invalid' };
  if (pattern.length > MAX_REGEX_LENGTH) return { ok: false, reason: 'regex_unsafe' };
  if (!PRINTABLE_ASCII_RE.test(pattern)) return { ok: false, reason: 'regex_invalid' };
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch {
    return { ok: false, reason: 'regex_invalid' };
  }
  if (
    FORBIDDEN_CONSTRUCT_RE.test(pattern) ||
    hasQuantifiedAlternation(pattern) ||
    variableQuantifiers(pattern) > MAX_VARIABLE_QUANTIFIERS ||
    !safeRegex(regex)
  ) {
    return { ok: false, reason: 'regex_unsafe' };
  }
  return { ok: true, regex, literalPrefix: literalPrefix(pattern), literalPrefixes: literalPrefixes(pattern) };
}

/** `^(` or `^(?:`, digit alternatives, `)`; group 2 is the character after the group. */
const LEADING_DIGIT_ALTERNATION_RE = /^\^\((?:\?:)?([0-9]+(?:\|[0-9]+)*)\)(.?)/;

/**
 * Every match starts with one of these digit strings; `['']` when nothing is known. Extends
 * {@link literalPrefix} to a leading group of digit alternatives (`^(?:33|49|176)\d{8}$` → 33, 49, 176), so
 * such a regex is also tested only on numbers that can match it. The list is prefix-free (`^(?:1|15)` → 1):
 * a number then starts with at most one of them, and the index finds the route at most once.
 */
export function literalPrefixes(pattern: string): readonly string[] {
  const single = literalPrefix(pattern);
  if (single !== '' || hasTopLevelAlternation(pattern)) return [single];
  const m = LEADING_DIGIT_ALTERNATION_RE.exec(pattern);
  const after = m?.[2];
  if (m === null || m[1] === undefined || after === '?' || after === '*' || after === '+' || after === '{') return [''];
  const kept: string[] = [];
  for (const alt of [...new Set(m[1].split('|'))].sort((a, b) => a.length - b.length || (a < b ? -1 : 1))) {
    if (!kept.some((k) => alt.startsWith(k))) kept.push(alt);
  }
  return kept;
}

/**
 * Digits every match must start with: the digits right after a leading `^`, minus one that a quantifier
 * follows, and nothing when the pattern has a top-level `|` (which would let another alternative match
 * unanchored). The index files a regex under this prefix so that it is only tested against numbers that can
 * match it — the difference between testing 200 regexes per call and testing two.
 */
export function literalPrefix(pattern: string): string {
  if (!pattern.startsWith('^') || hasTopLevelAlternation(pattern)) return '';
  let end = 1;
  while (end < pattern.length && isDigit(pattern.charCodeAt(end))) end += 1;
  const next = pattern[end];
  if (next === '?' || next === '*' || next === '+' || next === '{') end -= 1;
  return end > 1 ? pattern.slice(1, end) : '';
}

/**
 * True when a group holding a top-level `|` is followed by `*`, `+` or `{`: `(1|1|1|1)+2` is star height 1, so
 * safe-regex2 passes it, yet overlapping alternatives make backtracking k^n — four ways per digit took 11 s on
 * a 15-digit subject. Only `?` may follow an alternation group (it tries the group at most once). Routing
 * patterns never need a repeated alternation: `^(?:44|33)\d+$` repeats a class, not the group.
 */
export function hasQuantifiedAlternation(pattern: string): boolean {
  const groups: boolean[] = [];
  return scanStructure(pattern, (ch, i) => {
    if (ch === '(') {
      groups.push(false);
    } else if (ch === '|') {
      if (groups.length > 0) groups[groups.length - 1] = true;
    } else if (ch === ')') {
      const alternation = groups.pop() ?? false;
      const next = pattern[i + 1];
      if (alternation && (next === '*' || next === '+' || next === '{')) return true;
      // An alternation inside a group makes the enclosing group just as ambiguous when it repeats.
      if (alternation && groups.length > 0) groups[groups.length - 1] = true;
    }
    return false;
  });
}

/** Counts `?`, `*`, `+`, `{n,}` and `{n,m}` (m ≠ n) outside classes and escapes; lazy `?` and `(?` are not quantifiers. */
export function variableQuantifiers(pattern: string): number {
  let count = 0;
  scanStructure(pattern, (ch, i) => {
    const prev = pattern[i - 1];
    if (ch === '*' || ch === '+') {
      count += 1;
    } else if (ch === '?') {
      // `(?:`, `(?<name>` open a group; `*?`, `+?`, `??`, `}?` make the previous quantifier lazy.
      if (prev !== '(' && prev !== '*' && prev !== '+' && prev !== '?' && prev !== '}') count += 1;
    } else if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
      if (m !== null && m[2] !== undefined && m[3] !== m[1]) count += 1;
    }
    return false;
  });
  return count;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function hasTopLevelAlternation(pattern: string): boolean {
  let depth = 0;
  return scanStructure(pattern, (ch) => {
    if (ch === '(') depth += 1;
    else if (ch === ')') depth -= 1;
    return ch === '|' && depth <= 0;
  });
}

/**
 * Walks the characters of `pattern` that carry its structure (groups, alternation, quantifiers): everything
 * outside `\x` escapes and `[...]` classes. `visit` returns true to stop; the result says whether it did.
 */
function scanStructure(pattern: string, visit: (ch: string, i: number) => boolean): boolean {
  let inClass = false;
  for (let i = 0; i < pattern.length; i += 1) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      i += 1;
    } else if (inClass) {
      if (ch === ']') inClass = false;
    } else if (ch === '[') {
      inClass = true;
    } else if (visit(ch, i)) {
      return true;
    }
  }
  return false;
}
