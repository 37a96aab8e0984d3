/**
 * Parses a bridge dial string as mod_dptools/switch_ivr_originate read it (NOTES §6):
 * `{a=1,b=2}` global variables, `[a=1]` per-leg variables (win over `{}`), `|` sequential failover, `,` parallel
 * legs, values quoted with `'...'` or split with the `^^<d>` delimiter form, and `sofia/gateway/<gw>/<number>`.
 */

export interface DialLeg {
  /** The endpoint text after any `[]`, e.g. `sofia/gateway/carrier_a/+15551234567`. */
  readonly endpoint: string;
  /** Per-leg `[]` variables only. */
  readonly vars: Readonly<Record<string, string>>;
  /** Set for `sofia/gateway/<gateway>/<number>` endpoints. */
  readonly gateway: string | undefined;
  readonly number: string | undefined;
}

export interface ParsedDialString {
  readonly globals: Readonly<Record<string, string>>;
  /** `|`-separated groups tried in order; each group's legs ring in parallel. */
  readonly groups: ReadonlyArray<ReadonlyArray<DialLeg>>;
}

/** Splits on `sep` outside quotes and brackets. */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && (c === '{' || c === '[' || c === '<')) depth++;
    else if (!quoted && (c === '}' || c === ']' || c === '>')) depth--;
    else if (!quoted && depth === 0 && c === sep) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * FreeSWITCH's `^^<d>` prefix, used by variable blocks, multiset and cause lists: `^^:a:b` is the list `a`, `b`
 * delimited by `:` instead of the default separator.
 */
export function delimited(text: string, defaultSep: string): { sep: string; body: string } {
  const delim = /^\^\^(.)/.exec(text);
  return delim ? { sep: delim[1]!, body: text.slice(3) } : { sep: defaultSep, body: text };
}

/** Parses the inside of `{...}` / `[...]` into variables. */
export function parseVarBlock(inner: string): Record<string, string> {
  const vars: Record<string, string> = {};
  const { sep, body } = delimited(inner, ',');
  const items = sep === ',' ? splitTop(body, ',') : body.split(sep);
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    let value = item.slice(eq + 1);
    if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    vars[item.slice(0, eq).trim()] = value;
  }
  return vars;
}

function takeBlock(text: string, open: string, close: string): { inner: string; rest: string } | undefined {
  if (!text.startsWith(open)) return undefined;
  let quoted = false;
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "'") quoted = !quoted;
    else if (!quoted && text[i] === close) return { inner: text.slice(1, i), rest: text.slice(i + 1) };
  }
  return undefined;
}

function parseLeg(text: string): DialLeg {
  let rest = text.trim();
  let vars: Record<string, string> = {};
  const block = takeBlock(rest, '[', ']');
  if (block) {
    vars = parseVarBlock(block.inner);
    rest = block.rest.trim();
  }
  const gw = /^sofia\/gateway\/([^/]+)\/(.+)$/.exec(rest);
  return { endpoint: rest, vars, gateway: gw?.[1], number: gw?.[2] };
}

/** Parses a whole bridge argument. Never throws; odd input yields odd (but recorded) legs. */
export function parseDialString(dial: string): ParsedDialString {
  let rest = dial.trim();
  let globals: Record<string, string> = {};
  const block = takeBlock(rest, '{', '}');
  if (block) {
    globals = parseVarBlock(block.inner);
    rest = block.rest;
  }
  const groups = splitTop(rest, '|')
    .filter((g) => g.trim() !== '')
    .map((g) => splitTop(g, ',').filter((l) => l.trim() !== '').map(parseLeg));
  return { globals, groups };
}

/** Variable `name` for a leg: `[]` wins over `{}`. */
export function legVar(parsed: ParsedDialString, leg: DialLeg, name: string): string | undefined {
  return leg.vars[name] ?? parsed.globals[name];
}
