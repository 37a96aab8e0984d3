/**
 * The fast path of `text/event-json` decoding. FreeSWITCH's JSON event is one flat object of string values
 * carrying the whole channel (150+ keys, ~4 KB), and a session reads four to six of them: `JSON.parse` builds
 * every key and value (keys interned, a dictionary object per event) and was the largest single cost of a call.
 * Here the bytes are scanned once for where each key and value lies, and a value is cut only when it is read.
 *
 * Exactness over speed: the scanner accepts only a strict subset of JSON — an object whose values are all
 * strings or arrays of strings (read as absent), JSON whitespace only, valid escapes, no control characters in
 * strings, no backslash in a key, nothing after the closing brace. Anything else returns null and the caller decodes with `JSON.parse`, which decides
 * (and, for anything that is not JSON, rejects). So for every body this path accepts, each value read is the one
 * `JSON.parse` would give (a repeated key gives its last value, as there).
 */
import { HeaderView } from './header-view.js';
import { OffsetScratch } from './offset-scratch.js';
import { simdJsonScan } from './simd-scan.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** The value offsets of an entry whose value is not a string (an array). */
const NOT_A_STRING = -1;

/**
 * Per entry: key start, key end, value start, value end (negated end: the value has escapes; both NOT_A_STRING:
 * the value is an array). A string's end is its closing quote, at index 1 or more, so the sign is unambiguous.
 */
const STRIDE = 4;
const scratch = new OffsetScratch();

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** Byte-wise key comparison is exact only for ASCII names (the ones FreeSWITCH uses); others take the slow path. */
function isAscii(name: string): boolean {
  for (let k = 0; k < name.length; k++) if (name.charCodeAt(k) > 0x7f) return false;
  return true;
}

/**
 * The end of the string whose first content byte is at `i` (the index of its closing quote), negated when it
 * has escapes; or undefined when it is not a valid JSON string (or a key, `key`, has an escape).
 */
function stringEnd(b: Buffer, i: number, key: boolean): number | undefined {
  const len = b.length;
  let escaped = false;
  while (i < len) {
    const c = b[i]!;
    if (c === QUOTE) return escaped ? -i : i;
    if (c < 0x20) return undefined;
    if (c === BACKSLASH) {
      if (key) return undefined;
      escaped = true;
      const e = b[i + 1];
      if (e === 0x75) {
        // \uXXXX
        if (!(isHex(b[i + 2] ?? 0) && isHex(b[i + 3] ?? 0) && isHex(b[i + 4] ?? 0) && isHex(b[i + 5] ?? 0))) return undefined;
        i += 6;
        continue;
      }
      // \" \\ \/ \b \f \n \r \t
      if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return undefined;
      i += 2;
      continue;
    }
    i++;
  }
  return undefined;
}

/** The index of the `]` closing an array of strings whose first byte after `[` is at `i`; undefined if it is not one. */
function stringArrayEnd(b: Buffer, i: number): number | undefined {
  const len = b.length;
  while (i < len && isJsonSpace(b[i]!)) i++;
  if (b[i] === CLOSE_ARRAY) return i;
  for (;;) {
    if (b[i] !== QUOTE) return undefined;
    const end = stringEnd(b, i + 1, false);
    if (end === undefined) return undefined;
    i = Math.abs(end) + 1;
    while (i < len && isJsonSpace(b[i]!)) i++;
    if (b[i] === CLOSE_ARRAY) return i;
    if (b[i] !== COMMA) return undefined;
    i++;
    while (i < len && isJsonSpace(b[i]!)) i++;
  }
}

/**
 * The entries of a flat all-string JSON object (see the module comment), or null when the body is not one: by the
 * SIMD scanner (simd-scan.ts) where it can, else by {@link scanFlatJsonObjectJs}.
 */
export function scanFlatJsonObject(b: Buffer): Int32Array | null {
  const entries = simdJsonScan(b);
  return entries === undefined ? scanFlatJsonObjectJs(b) : entries;
}

/** {@link scanFlatJsonObject} in JavaScript: the reference the SIMD scanner is tested against, and its fallback. */
export function scanFlatJsonObjectJs(b: Buffer): Int32Array | null {
  scratch.start();
  const len = b.length;
  let i = 0;
  let n = 0;
  while (i < len && isJsonSpace(b[i]!)) i++;
  if (b[i] !== OPEN) return null;
  i++;
  while (i < len && isJsonSpace(b[i]!)) i++;
  if (b[i] === CLOSE) {
    i++;
  } else {
    for (;;) {
      if (b[i] !== QUOTE) return null;
      const keyStart = i + 1;
      const keyEnd = stringEnd(b, keyStart, true);
      if (keyEnd === undefined) return null;
      i = keyEnd + 1;
      while (i < len && isJsonSpace(b[i]!)) i++;
      if (b[i] !== COLON) return null;
      i++;
      while (i < len && isJsonSpace(b[i]!)) i++;
      let valueStart: number;
      let valueEnd: number;
      if (b[i] === QUOTE) {
        valueStart = i + 1;
        const end = stringEnd(b, valueStart, false);
        if (end === undefined) return null;
        valueEnd = end;
        i = Math.abs(end) + 1;
      } else if (b[i] === OPEN_ARRAY) {
        // A multi-valued channel variable (`ARRAY::`) is a JSON array of strings on the real switch: skipped,
        // and read as absent, as the JSON.parse path reads any value that is not a string, number or boolean.
        const end = stringArrayEnd(b, i + 1);
        if (end === undefined) return null;
        valueStart = NOT_A_STRING;
        valueEnd = NOT_A_STRING;
        i = end + 1;
      } else {
        return null;
      }
      const ints = scratch.room(n, STRIDE);
      ints[n] = keyStart;
      ints[n + 1] = keyEnd;
      ints[n + 2] = valueStart;
      ints[n + 3] = valueEnd;
      n += STRIDE;
      while (i < len && isJsonSpace(b[i]!)) i++;
      if (b[i] === COMMA) {
        i++;
        while (i < len && isJsonSpace(b[i]!)) i++;
        continue;
      }
      if (b[i] !== CLOSE) return null;
      i++;
      break;
    }
  }
  while (i < len && isJsonSpace(b[i]!)) i++;
  return i === len ? scratch.keep(n) : null;
}

/**
 * The headers of a scanned event: each `get` finds the last entry with that key and cuts its value. Iteration
 * (rare: nothing on the call path iterates an event) parses the body once and follows JSON.parse's order.
 */
export class ScannedJsonHeaders extends HeaderView {
  readonly #body: Buffer;
  readonly #entries: Int32Array;
  #all: Map<string, string> | undefined;

  constructor(body: Buffer, entries: Int32Array) {
    super();
    this.#body = body;
    this.#entries = entries;
  }

  #find(name: string): number {
    const b = this.#body;
    const e = this.#entries;
    const nameLength = name.length;
    next: for (let j = e.length - STRIDE; j >= 0; j -= STRIDE) {
      const start = e[j]!;
      // Keys have no escapes, so a key equal to an ASCII name has exactly its length in bytes.
      if (e[j + 1]! - start !== nameLength) continue;
      for (let k = 0; k < nameLength; k++) if (b[start + k] !== name.charCodeAt(k)) continue next;
      return j;
    }
    return -1;
  }

  get(name: string): string | undefined {
    if (!isAscii(name)) return this.#map().get(name);
    const j = this.#find(name);
    if (j === -1) return undefined;
    const start = this.#entries[j + 2]!;
    const end = this.#entries[j + 3]!;
    if (start === NOT_A_STRING) return undefined;
    if (end >= 0) return this.#body.toString('utf8', start, end);
    // Escapes were checked by the scan: the quoted text is a valid JSON string.
    return JSON.parse(this.#body.toString('utf8', start - 1, -end + 1)) as string;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  #map(): Map<string, string> {
    if (this.#all === undefined) {
      const all = new Map<string, string>();
      for (const [name, v] of Object.entries(JSON.parse(this.#body.toString('utf8')) as Record<string, unknown>)) {
        if (typeof v === 'string') all.set(name, v);
      }
      this.#all = all;
    }
    return this.#all;
  }

  get size(): number {
    return this.#map().size;
  }

  entries(): MapIterator<[string, string]> {
    return this.#map().entries();
  }
}
