/**
 * Event socket framing, apart from any socket: feed the bytes as they arrive, get whole frames back.
 *
 * A frame is a block of `Name: value\n` header lines ended by a blank line (`\r` before `\n` tolerated), then
 * `Content-Length` bytes of body when that header is present. FreeSWITCH sends the connect reply (hundreds of
 * lines, no Content-Length), `command/reply`, `text/event-json`, `text/event-plain`, `api/response` and
 * `text/disconnect-notice` frames this way; the daemon's commands use the same framing with the command itself
 * as the first line.
 *
 * Bounded and total: a header block or body above `maxFrameBytes`, a bad Content-Length or a malformed header
 * line yields an error VALUE (the caller closes the session); the parser never throws on input and stays
 * poisoned after an error. Buffered bytes are copied out of the socket's chunks, so a small frame never pins a
 * large chunk in memory, and nothing is kept between frames.
 */
import { HeaderView } from './header-view.js';
import { keepInts, OffsetScratch } from './offset-scratch.js';
import { headerLines, simdHeaderBlock } from './simd-scan.js';

/** One parsed frame. Header names are case-sensitive as sent; values are raw (not URL-decoded). */
export interface EslFrame {
  /** First line when the parser runs in `commandLine` mode (daemon → FreeSWITCH direction), else undefined. */
  readonly command: string | undefined;
  readonly headers: ReadonlyMap<string, string>;
  /** The body when Content-Length > 0, else undefined. */
  readonly body: Buffer | undefined;
}

/** Why the byte stream cannot be framed. Both close the session. */
export type FrameErrorCode = 'frame_too_large' | 'protocol_error';

export type FrameParseResult =
  | { readonly ok: true; readonly frames: readonly EslFrame[] }
  | { readonly ok: false; readonly code: FrameErrorCode; readonly detail: string; readonly frames: readonly EslFrame[] };

export interface FrameParserOptions {
  /** Largest header block, and largest body, accepted (bytes). */
  readonly maxFrameBytes: number;
  /**
   * Parse the daemon → FreeSWITCH direction: the first line is the command (no `:`), and header lines without
   * `:` are ignored as FreeSWITCH does. Default false: every header line must contain `:`.
   */
  readonly commandLine?: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY: readonly EslFrame[] = Object.freeze([]);
const CONTENT_LENGTH_RE = /^[0-9]{1,10}$/;
const SPACE = 0x20;
const BLANK_LINE = Buffer.from('\n\n');
/**
 * The two blocks FreeSWITCH sends most, byte for byte: a command reply (`Content-Type: command/reply`, then its
 * `Reply-Text`) and a JSON event's head (`Content-Length: N`, then `Content-Type: text/event-json`). Eleven of a
 * call's ~14 frames are one of them; read straight from the chunk, they skip cutting the block as a string and
 * parsing its lines (see #knownBlock), and give the same frame the general path would.
 */
const REPLY_HEAD = Buffer.from('Content-Type: command/reply\nReply-Text: ');
const EVENT_HEAD = Buffer.from('Content-Length: ');
const EVENT_TAIL = Buffer.from('\nContent-Type: text/event-json\n\n');
const MAX_LENGTH_DIGITS = 10;

/** `chunk` holds `bytes` at `at` (and within `end`). */
function startsWith(chunk: Buffer, at: number, end: number, bytes: Buffer): boolean {
  if (end - at < bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (chunk[at + i] !== bytes[i]) return false;
  return true;
}

/** Header blocks longer than this (the connect reply: 100+ lines) are read lazily (see HeaderBlock). */
const LAZY_HEADER_LINES = 24;

/** Whitespace that `String.prototype.trim` removes at the ends of a header name (ASCII and the Unicode set). */
function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0 || code === 0xfeff || code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000;
}

/**
 * Line offsets of the block being parsed (name start, colon, line end per line; the connect reply has 100+ lines
 * per call). A lazily read block keeps an exact-size copy.
 */
const scratch = new OffsetScratch();

function pushOffsets(n: number, a: number, b: number, c: number): void {
  const ints = scratch.room(n, 3);
  ints[n] = a;
  ints[n + 1] = b;
  ints[n + 2] = c;
}

/** The value of the header line at `offsets[i..i+2]` (one space after the colon is not part of it). */
function valueAt(text: string, offsets: Int32Array, i: number): string {
  const colon = offsets[i + 1]!;
  const lineEnd = offsets[i + 2]!;
  const valueStart = colon + 1 < lineEnd && text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
  return text.slice(valueStart, lineEnd);
}

/** Every header of a block (the first `count` offsets) as a Map (names trimmed; a repeated name keeps its last value). */
function headerMap(text: string, offsets: Int32Array, count: number): Map<string, string> {
  const headers = new Map<string, string>();
  for (let i = 0; i < count; i += 3) headers.set(text.slice(offsets[i]!, offsets[i + 1]!).trim(), valueAt(text, offsets, i));
  return headers;
}

/**
 * A long header block read on demand: `get` finds the LAST line with that exact name (Map semantics), cutting
 * only the value it returns; iteration builds the full map once. For blocks whose names need no trimming.
 */
class HeaderBlock extends HeaderView {
  readonly #text: string;
  readonly #offsets: Int32Array;
  #all: Map<string, string> | undefined;

  constructor(text: string, offsets: Int32Array) {
    super();
    this.#text = text;
    this.#offsets = offsets;
  }

  #find(name: string): number {
    const o = this.#offsets;
    for (let i = o.length - 3; i >= 0; i -= 3) {
      if (o[i + 1]! - o[i]! === name.length && this.#text.startsWith(name, o[i]!)) return i;
    }
    return -1;
  }

  get(name: string): string | undefined {
    const i = this.#find(name);
    return i === -1 ? undefined : valueAt(this.#text, this.#offsets, i);
  }

  has(name: string): boolean {
    return this.#find(name) !== -1;
  }

  #map(): Map<string, string> {
    return (this.#all ??= headerMap(this.#text, this.#offsets, this.#offsets.length));
  }

  get size(): number {
    return this.#map().size;
  }

  entries(): MapIterator<[string, string]> {
    return this.#map().entries();
  }
}

/** Incremental parser for one connection. Not reusable across connections. */
export class FrameParser {
  readonly #max: number;
  readonly #commandLine: boolean;
  #headerParts: Buffer[] = [];
  #headerLen = 0;
  /** The current header line has a byte other than `\r` (so a `\n` now ends a line, not the block). */
  #lineHasContent = false;
  /** A buffered line of this block had such a byte (CR-only lines alone make a stray blank line, not a frame). */
  #blockHasContent = false;
  /** Body bytes still expected; -1 while reading headers. */
  #bodyRemaining = -1;
  #body: Buffer | undefined;
  #bodyFilled = 0;
  #pendingHeaders: { command: string | undefined; headers: ReadonlyMap<string, string> } | undefined;
  #error: { code: FrameErrorCode; detail: string } | undefined;
  /** The reply frame #knownBlock just read (handed to the caller at once). */
  #lastReply: EslFrame | undefined;

  constructor(options: FrameParserOptions) {
    this.#max = options.maxFrameBytes;
    this.#commandLine = options.commandLine ?? false;
  }

  /** True while part of a frame is buffered (used for the mid-frame stall timer). */
  get midFrame(): boolean {
    return this.#headerLen > 0 || this.#bodyRemaining >= 0;
  }

  /** Feed one chunk; returns every frame it completes, or the error that poisons the stream. */
  push(chunk: Buffer): FrameParseResult {
    if (this.#error) return { ok: false, ...this.#error, frames: EMPTY };
    let frames: EslFrame[] | undefined;
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.#bodyRemaining >= 0) {
        const take = Math.min(this.#bodyRemaining, end - pos);
        chunk.copy(this.#body!, this.#bodyFilled, pos, pos + take);
        this.#bodyFilled += take;
        this.#bodyRemaining -= take;
        pos += take;
        if (this.#bodyRemaining === 0) (frames ??= []).push(this.#finishBody());
        continue;
      }
      if (this.#headerLen === 0 && chunk[pos] !== LF && chunk[pos] !== CR) {
        const after = this.#commandLine ? -1 : this.#knownBlock(chunk, pos, end);
        if (after !== -1) {
          pos = after;
          if (this.#lastReply !== undefined) {
            (frames ??= []).push(this.#lastReply);
            this.#lastReply = undefined;
          }
          continue;
        }
        // The usual case: a whole header block in this chunk, LF-only as FreeSWITCH writes it. Cut it as one
        // string instead of a Buffer per line plus a concat (the connect reply has 100+ lines per call), its lines
        // found by the SIMD scan when it reads the block, else below.
        const blockEnd = this.#commandLine ? -1 : simdHeaderBlock(chunk, pos, end);
        if (blockEnd !== -1 && blockEnd - pos <= this.#max) {
          const text = chunk.toString('latin1', pos, blockEnd - 1);
          pos = blockEnd;
          const parsed = this.#headerFrame(undefined, text, headerLines.offsets, headerLines.count, false);
          if (!parsed.ok) return this.#fail(parsed.code, parsed.detail, frames);
          if (parsed.frame) (frames ??= []).push(parsed.frame);
          continue;
        }
        const blank = chunk.indexOf(BLANK_LINE, pos);
        // Same bound as line by line, which counts the blank line too.
        if (blank !== -1 && blank + 2 - pos <= this.#max) {
          const text = chunk.toString('utf8', pos, blank + 1);
          if (!text.includes('\r')) {
            pos = blank + 2;
            const parsed = this.#parseHeaderText(text);
            if (!parsed.ok) return this.#fail(parsed.code, parsed.detail, frames);
            if (parsed.frame) (frames ??= []).push(parsed.frame);
            continue;
          }
        }
      }
      const nl = chunk.indexOf(LF, pos);
      const lineEnd = nl === -1 ? end : nl;
      if (!this.#lineHasContent) {
        for (let i = pos; i < lineEnd; i++) {
          if (chunk[i] !== CR) {
            this.#lineHasContent = true;
            break;
          }
        }
      }
      const segEnd = nl === -1 ? end : nl + 1;
      if (this.#headerLen + (segEnd - pos) > this.#max) {
        return this.#fail('frame_too_large', `header block over ${this.#max} bytes`, frames);
      }
      if (this.#lineHasContent) this.#blockHasContent = true;
      if (nl === -1) {
        this.#headerParts.push(chunk.subarray(pos, end));
        this.#headerLen += end - pos;
        pos = end;
        break;
      }
      if (this.#lineHasContent) {
        this.#headerParts.push(chunk.subarray(pos, segEnd));
        this.#headerLen += segEnd - pos;
        this.#lineHasContent = false;
        pos = segEnd;
        continue;
      }
      // A blank line: the end of a header block — or a stray blank line between frames, which is skipped (also
      // when its CR came in an earlier chunk than its LF).
      pos = segEnd;
      if (!this.#blockHasContent) {
        this.#headerParts = [];
        this.#headerLen = 0;
        continue;
      }
      const parsed = this.#finishHeaders();
      if (!parsed.ok) return this.#fail(parsed.code, parsed.detail, frames);
      if (parsed.frame) (frames ??= []).push(parsed.frame);
    }
    // Copy what stays buffered: the socket's chunk (often 64 KiB) must not be retained by a small remainder.
    if (this.#headerParts.length > 0 && this.#headerParts.at(-1)!.buffer === chunk.buffer) {
      this.#headerParts = [Buffer.concat(this.#headerParts)];
    }
    return { ok: true, frames: frames ?? EMPTY };
  }

  /**
   * A whole REPLY_HEAD or EVENT_HEAD block at `pos`: reads it (a reply into #lastReply; an event's head starts its
   * body) and returns where it ends; -1 for anything else, and for whatever the general path would refuse or
   * treat specially (a CR, an empty or oversize body, a block over the bound), which then reads it as before.
   */
  #knownBlock(chunk: Buffer, pos: number, end: number): number {
    if (startsWith(chunk, pos, end, REPLY_HEAD)) {
      const start = pos + REPLY_HEAD.length;
      const lf = chunk.indexOf(LF, start);
      if (lf === -1 || lf + 1 >= end || chunk[lf + 1] !== LF || lf + 2 - pos > this.#max) return -1;
      for (let i = start; i < lf; i++) if (chunk[i] === CR) return -1;
      const headers = new Map<string, string>();
      headers.set('Content-Type', 'command/reply');
      headers.set('Reply-Text', chunk.toString('utf8', start, lf));
      this.#lastReply = { command: undefined, headers, body: undefined };
      return lf + 2;
    }
    if (startsWith(chunk, pos, end, EVENT_HEAD)) {
      const start = pos + EVENT_HEAD.length;
      let i = start;
      while (i < end && i - start < MAX_LENGTH_DIGITS && chunk[i]! >= 0x30 && chunk[i]! <= 0x39) i++;
      if (i === start || !startsWith(chunk, i, end, EVENT_TAIL) || i + EVENT_TAIL.length - pos > this.#max) return -1;
      const digits = chunk.toString('latin1', start, i);
      const length = Number(digits);
      if (length === 0 || length > this.#max) return -1;
      const headers = new Map<string, string>();
      headers.set('Content-Length', digits);
      headers.set('Content-Type', 'text/event-json');
      this.#startBody(undefined, headers, length);
      return i + EVENT_TAIL.length;
    }
    return -1;
  }

  #startBody(command: string | undefined, headers: ReadonlyMap<string, string>, length: number): void {
    this.#pendingHeaders = { command, headers };
    // Allocated once at its announced size (bounded above), so a body split over many chunks is copied once.
    this.#body = Buffer.allocUnsafe(length);
    this.#bodyFilled = 0;
    this.#bodyRemaining = length;
  }

  #fail(code: FrameErrorCode, detail: string, frames: EslFrame[] | undefined): FrameParseResult {
    this.#error = { code, detail };
    this.#headerParts = [];
    this.#body = undefined;
    this.#headerLen = 0;
    this.#blockHasContent = false;
    this.#bodyRemaining = -1;
    return { ok: false, code, detail, frames: frames ?? EMPTY };
  }

  #finishHeaders():
    | { ok: true; frame: EslFrame | undefined }
    | { ok: false; code: FrameErrorCode; detail: string } {
    const text = (this.#headerParts.length === 1 ? this.#headerParts[0]! : Buffer.concat(this.#headerParts)).toString('utf8');
    this.#headerParts = [];
    this.#headerLen = 0;
    this.#blockHasContent = false;
    return this.#parseHeaderText(text);
  }

  /** A header block's text (every line with its `\n`, the blank line not included) → the frame, or its body pending. */
  #parseHeaderText(text: string):
    | { ok: true; frame: EslFrame | undefined }
    | { ok: false; code: FrameErrorCode; detail: string } {
    let command: string | undefined;
    let start = 0;
    let first = true;
    // Here, so that the error returns below need not release a grown scratch.
    scratch.start();
    // Index arithmetic rather than a string per line: the connect reply has 100+ lines per call. Offsets of each
    // line (name start, colon, line end) are collected first; strings are cut only when a header is read.
    let n = 0;
    let trimmed = false;
    while (start < text.length) {
      let nl = text.indexOf('\n', start);
      if (nl === -1) nl = text.length;
      const lineStart = start;
      let lineEnd = nl;
      start = nl + 1;
      while (lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === CR) lineEnd--;
      if (lineEnd === lineStart) continue;
      if (first && this.#commandLine) {
        command = text.slice(lineStart, lineEnd);
        first = false;
        continue;
      }
      first = false;
      const colon = text.indexOf(':', lineStart);
      if (colon <= lineStart || colon >= lineEnd) {
        if (this.#commandLine) continue;
        return { ok: false, code: 'protocol_error', detail: 'header line without a name and colon' };
      }
      if (!trimmed && (isSpace(text.charCodeAt(lineStart)) || isSpace(text.charCodeAt(colon - 1)))) trimmed = true;
      pushOffsets(n, lineStart, colon, lineEnd);
      n += 3;
    }
    return this.#headerFrame(command, text, scratch.ints, n, trimmed);
  }

  /** The frame of a header block whose lines are at `offsets[0, n)` (name start, colon, line end), or its body pending. */
  #headerFrame(command: string | undefined, text: string, offsets: Int32Array, n: number, trimmed: boolean):
    | { ok: true; frame: EslFrame | undefined }
    | { ok: false; code: FrameErrorCode; detail: string } {
    const headers: ReadonlyMap<string, string> =
      n > LAZY_HEADER_LINES * 3 && !trimmed ? new HeaderBlock(text, keepInts(offsets, 0, n)) : headerMap(text, offsets, n);
    const lengthText = headers.get('Content-Length');
    if (lengthText === undefined) return { ok: true, frame: { command, headers, body: undefined } };
    if (!CONTENT_LENGTH_RE.test(lengthText.trim())) {
      return { ok: false, code: 'protocol_error', detail: 'Content-Length is not a non-negative integer' };
    }
    const length = Number(lengthText.trim());
    if (length > this.#max) return { ok: false, code: 'frame_too_large', detail: `body over ${this.#max} bytes` };
    if (length === 0) return { ok: true, frame: { command, headers, body: undefined } };
    this.#startBody(command, headers, length);
    return { ok: true, frame: undefined };
  }

  #finishBody(): EslFrame {
    const body = this.#body!;
    this.#body = undefined;
    this.#bodyRemaining = -1;
    const pending = this.#pendingHeaders!;
    this.#pendingHeaders = undefined;
    return { command: pending.command, headers: pending.headers, body };
  }
}
