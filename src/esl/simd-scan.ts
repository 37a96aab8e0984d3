/**
 * The event socket's two hot scans in WebAssembly SIMD (simd-scan.wat): a JSON event's entries (json-event.ts) and
 * a header block's lines (frame-parser.ts). Each gives its JavaScript counterpart's answer for every input it reads
 * and declines the rest (test/esl/simd-scan.test.ts). Plain bytes are skipped 16 per step where JavaScript reads
 * one per step: scanning the three ~4 KB events and the ~120-line connect reply of every call was the daemon's
 * largest cost of its own (README, Performance).
 *
 * One instance serves every connection: a scan is synchronous, and what outlives it is copied out.
 */
import { SIMD_SCAN_WASM_BASE64 } from './simd-scan-module.js';
import { keepInts } from './offset-scratch.js';

/** JSON bodies above this go to the JavaScript scanner: text, 16 zero bytes and the offsets fit the module's 256 KB. */
export const SIMD_JSON_MAX_BYTES = 48 * 1024;
/** Header text handed to the block scan: the connect reply, the largest block FreeSWITCH sends, is ~5 KB. */
export const SIMD_HEADER_MAX_BYTES = 16 * 1024;
/** Where the block scan writes (past its text and the zeros): fixed, so its offsets have one view. */
const HEADER_OUT = SIMD_HEADER_MAX_BYTES + 16;

interface ScanExports {
  memory: WebAssembly.Memory;
  jsonObject(len: number, out: number): number;
  headerLines(len: number, out: number): number;
}

/**
 * The module, or null where this V8 cannot compile WebAssembly SIMD (it needs SSE4.1 on x86-64): then the
 * JavaScript scanners read everything.
 */
function load(): ScanExports | null {
  try {
    const bytes = Buffer.from(SIMD_SCAN_WASM_BASE64, 'base64');
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as ScanExports;
  } catch {
    return null;
  }
}

const wasm = load();
const memory = wasm === null ? new Uint8Array(0) : new Uint8Array(wasm.memory.buffer);
const ints = wasm === null ? new Int32Array(0) : new Int32Array(wasm.memory.buffer);

/** Which scanners read event socket input in this process (the `esl_scanner` of the ready line). */
export const eslScanner: 'simd' | 'js' = wasm === null ? 'js' : 'simd';

/** Copies `src[from, to)` to the module's memory at 0, then the 16 zeros every scan relies on. */
function place(src: Buffer, from: number, to: number): number {
  const len = to - from;
  memory.set(from === 0 && to === src.length ? src : src.subarray(from, to), 0);
  memory.fill(0, len, len + 16);
  return len;
}

/**
 * The entries of a flat all-string JSON object (json-event.ts's format), null when `body` is not one, or undefined
 * when this scanner does not read it (unavailable, or over {@link SIMD_JSON_MAX_BYTES}): the caller scans in
 * JavaScript.
 */
export function simdJsonScan(body: Buffer): Int32Array | null | undefined {
  if (wasm === null || body.length > SIMD_JSON_MAX_BYTES) return undefined;
  const len = place(body, 0, body.length);
  const out = (len + 16 + 3) & ~3;
  const n = wasm.jsonObject(len, out);
  return n < 0 ? null : keepInts(ints, out >> 2, n);
}

/** The lines of the block {@link simdHeaderBlock} last read: 3 offsets per line, from the block's first byte. */
export const headerLines = {
  /** Valid until the next scan: copy what must outlive it. */
  offsets: wasm === null ? ints : ints.subarray((HEADER_OUT >> 2) + 1),
  count: 0,
};

/**
 * The header block at `chunk[pos]`: the index just past its blank line, its lines in {@link headerLines}; or -1
 * when this scan declines it (see simd-scan.wat: not whole within `end` or {@link SIMD_HEADER_MAX_BYTES}, a CR,
 * a control or non-ASCII byte, a line the parser must refuse or trim), and the parser reads it in JavaScript. The
 * block is ASCII, so its text is the same decoded as Latin-1 or UTF-8, and the offsets index either.
 */
export function simdHeaderBlock(chunk: Buffer, pos: number, end: number): number {
  if (wasm === null) return -1;
  const len = place(chunk, pos, Math.min(end, pos + SIMD_HEADER_MAX_BYTES));
  const blockEnd = wasm.headerLines(len, HEADER_OUT);
  if (blockEnd < 0) return -1;
  headerLines.count = ints[HEADER_OUT >> 2]!;
  return pos + blockEnd;
}
