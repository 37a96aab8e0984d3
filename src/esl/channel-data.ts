/**
 * Decoding what FreeSWITCH tells us about a channel: the URL-encoded connect reply and plain events, and the
 * (not encoded) JSON events. Pure functions; every input is untrusted.
 */
import { HeaderView } from './header-view.js';
import { ScannedJsonHeaders, scanFlatJsonObject } from './json-event.js';

/** The channel as dumped in the reply to `connect`. */
export interface ChannelData {
  /** `Unique-ID` of the A-leg (the channel the socket controls). */
  readonly uuid: string;
  /** Channel variables from the `variable_<name>` headers, keyed by `<name>`, decoded. */
  readonly variables: ReadonlyMap<string, string>;
  /** Every header, decoded (including the `variable_*` ones). */
  readonly headers: ReadonlyMap<string, string>;
}

/** An event received from FreeSWITCH, flattened to string headers. */
export interface EslEvent {
  /** `Event-Name` (e.g. `CHANNEL_EXECUTE_COMPLETE`). */
  readonly name: string;
  /** Connection-local sequence number, increasing by one per event received (see `OutboundConnection.eventSeq`). */
  readonly seq: number;
  readonly headers: ReadonlyMap<string, string>;
}

const UNDEF = '_undef_';

/**
 * A copy of `value` that does not share memory with the frame it was cut from. Header values are slices of the
 * frame's text (V8 keeps the whole parent string alive for a slice of 13+ characters): a value kept for the
 * life of a call — the channel uuid, the campaign and lead IDs — would otherwise pin the 4 KB connect reply.
 */
export function ownString(value: string): string {
  return value.length < 13 ? value : Buffer.from(value, 'utf8').toString('utf8');
}

/** Reads header `name` of an event, or undefined. */
export function eventHeader(event: EslEvent, name: string): string | undefined {
  return event.headers.get(name);
}

/** Reads channel variable `name` (the `variable_<name>` header) of an event, or undefined. */
export function eventVariable(event: EslEvent, name: string): string | undefined {
  return event.headers.get(`variable_${name}`);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * Decodes one value of a plain-format header: `%XX` → byte (UTF-8 reassembled), `_undef_` → empty string, `+`
 * left as is (FreeSWITCH encodes space as `%20`). A `%` not followed by two hex digits stays literal. Known
 * ambiguity: FreeSWITCH does not escape a literal `%` followed by two upper-case hex digits, so such a value
 * decodes wrongly; prefer JSON events, which are not encoded.
 */
export function decodeEslValue(raw: string): string {
  if (raw === UNDEF) return '';
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  const src = Buffer.from(raw, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x25 && i + 2 < src.length) {
      const hi = hexValue(src[i + 1]!);
      const lo = hexValue(src[i + 2]!);
      if (hi >= 0 && lo >= 0) {
        bytes.push(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

const MUST_ESCAPE = new Set(Array.from('\r\n #%&+:;<=>?@[\\]^`{|}"', (c) => c.charCodeAt(0)));
const HEX = '0123456789ABCDEF';
const UPPER_HEX_RE = /^[0-9A-F]{2}$/;

/**
 * Encodes a value as FreeSWITCH does in plain-format headers (NOTES §2): bytes < 0x20 or > 0x7E and
 * `\r\n #%&+:;<=>?@[\]^`{|}"` become `%XX` (upper-case hex), an empty value is `_undef_` — including the quirk
 * that a `%` already followed by two upper-case hex digits is passed through. Used by the fake FreeSWITCH.
 */
export function encodeEslValue(value: string): string {
  if (value === '') return UNDEF;
  const src = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0x25 && UPPER_HEX_RE.test(String.fromCharCode(src[i + 1] ?? 0, src[i + 2] ?? 0))) {
      out += '%';
    } else if (b < 0x20 || b > 0x7e || MUST_ESCAPE.has(b)) {
      out += `%${HEX[b >> 4]}${HEX[b & 15]}`;
    } else {
      out += String.fromCharCode(b);
    }
  }
  return out;
}

/** Decodes every header of a plain-format header map. */
export function decodeHeaders(raw: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of raw) out.set(name, decodeEslValue(value));
  return out;
}

/**
 * A read-only view of plain-format headers that decodes each value when it is read: the connect reply has 100+
 * headers and a session reads three or four of them, so nothing is decoded or copied up front. With a `prefix`
 * (`variable_`) it shows only the headers starting with it, keyed without it.
 */
class DecodingHeaders extends HeaderView {
  readonly #raw: ReadonlyMap<string, string>;
  readonly #prefix: string;

  constructor(raw: ReadonlyMap<string, string>, prefix: string) {
    super();
    this.#raw = raw;
    this.#prefix = prefix;
  }

  get(name: string): string | undefined {
    const v = this.#raw.get(this.#prefix + name);
    return v === undefined ? undefined : decodeEslValue(v);
  }

  has(name: string): boolean {
    return this.#raw.has(this.#prefix + name);
  }

  get size(): number {
    if (this.#prefix === '') return this.#raw.size;
    let n = 0;
    for (const name of this.#raw.keys()) if (name.startsWith(this.#prefix)) n++;
    return n;
  }

  *entries(): MapIterator<[string, string]> {
    for (const [name, v] of this.#raw) {
      if (name.startsWith(this.#prefix)) yield [name.slice(this.#prefix.length), decodeEslValue(v)];
    }
  }
}

/**
 * Builds the channel from the connect reply's headers (decoded when read, see DecodingHeaders). Returns
 * undefined when the reply names no channel (`Unique-ID` or `Channel-Unique-ID` absent or empty) — a protocol
 * error for the caller.
 */
export function parseChannelData(raw: ReadonlyMap<string, string>): ChannelData | undefined {
  const headers = new DecodingHeaders(raw, '');
  const uuid = ownString(headers.get('Unique-ID') || headers.get('Channel-Unique-ID') || '');
  if (uuid === '') return undefined;
  return { uuid, variables: new DecodingHeaders(raw, 'variable_'), headers };
}

/** The `variable_*` headers of a decoded header map, keyed without the prefix. */
export function variablesOf(headers: ReadonlyMap<string, string>): Map<string, string> {
  const variables = new Map<string, string>();
  for (const [name, value] of headers) {
    if (name.startsWith('variable_')) variables.set(name.slice('variable_'.length), value);
  }
  return variables;
}

/**
 * The headers of a JSON event as a read-only map over the parsed object — no copy: a real event carries the whole
 * channel (100+ headers) and most events are read for two or three of them. Strings are kept, numbers and
 * booleans stringified, anything else absent.
 */
class JsonEventHeaders extends HeaderView {
  readonly #o: Record<string, unknown>;
  #size = -1;

  constructor(o: Record<string, unknown>) {
    super();
    this.#o = o;
  }

  get(name: string): string | undefined {
    if (!Object.hasOwn(this.#o, name)) return undefined;
    const v = this.#o[name];
    return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  get size(): number {
    if (this.#size < 0) {
      let n = 0;
      for (const name in this.#o) if (this.get(name) !== undefined) n++;
      this.#size = n;
    }
    return this.#size;
  }

  *entries(): MapIterator<[string, string]> {
    for (const name of Object.keys(this.#o)) {
      const v = this.get(name);
      if (v !== undefined) yield [name, v];
    }
  }
}

/**
 * Parses a `text/event-json` body into a flat string map (JSON events are NOT URL-encoded). Strings are kept,
 * numbers and booleans stringified, anything else dropped. Undefined when the body is not a JSON object or has
 * no `Event-Name`. The map is a read-only view (nothing copied): over the scanned body for the shape FreeSWITCH
 * sends (json-event.ts, values cut when read), else over the JSON.parse'd object.
 */
export function parseJsonEventBody(body: Buffer): ReadonlyMap<string, string> | undefined {
  const entries = scanFlatJsonObject(body);
  if (entries !== null) {
    const scanned = new ScannedJsonHeaders(body, entries);
    return scanned.get('Event-Name') ? scanned : undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const headers = new JsonEventHeaders(parsed as Record<string, unknown>);
  if (!headers.get('Event-Name')) return undefined;
  return headers;
}

/**
 * Parses a `text/event-plain` body (URL-encoded `Name: value` lines, optionally followed by a blank line and
 * an event body, which is ignored). Undefined when it has no `Event-Name`.
 */
export function parsePlainEventBody(body: Buffer): ReadonlyMap<string, string> | undefined {
  const text = body.toString('utf8');
  const blank = text.indexOf('\n\n');
  const block = blank === -1 ? text : text.slice(0, blank);
  const headers = new Map<string, string>();
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let value = line.slice(colon + 1).replace(/\r$/, '');
    if (value.startsWith(' ')) value = value.slice(1);
    headers.set(line.slice(0, colon).trim(), decodeEslValue(value));
  }
  if (!headers.get('Event-Name')) return undefined;
  return headers;
}
