/**
 * The JSON event scanner in WebAssembly SIMD (json-scan.wat): the same answer as json-event.ts's JavaScript
 * scanner for every input (test/esl/json-scan.test.ts), in about a third of its time. A string's plain content is
 * skipped 16 bytes per step; JavaScript reads one byte per step, and scanning the three ~4 KB events of every call
 * was the daemon's largest cost of its own (README, Performance).
 *
 * One instance serves every connection: a scan is synchronous, and its offsets are copied out before it returns.
 */
import { JSON_SCAN_WASM_BASE64 } from './json-scan-module.js';
import { keepInts } from './offset-scratch.js';

/** Bodies above this go to the JavaScript scanner: text, 16 zero bytes and the offsets fit the module's 256 KB. */
export const SIMD_SCAN_MAX_BYTES = 48 * 1024;

interface ScanExports {
  memory: WebAssembly.Memory;
  scan(len: number, out: number): number;
}

/**
 * The scanner, or null where this V8 cannot compile WebAssembly SIMD (it needs SSE4.1 on x86-64): then every
 * body takes the JavaScript scanner.
 */
function load(): ScanExports | null {
  try {
    const bytes = Buffer.from(JSON_SCAN_WASM_BASE64, 'base64');
    return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as ScanExports;
  } catch {
    return null;
  }
}

const wasm = load();
const bytes = wasm === null ? null : new Uint8Array(wasm.memory.buffer);
const ints = wasm === null ? null : new Int32Array(wasm.memory.buffer);

/** Which scanner reads JSON events in this process. */
export const jsonScanner: 'simd' | 'js' = wasm === null ? 'js' : 'simd';

/**
 * The entries of a flat all-string JSON object (json-event.ts's format), null when `body` is not one, or undefined
 * when this scanner cannot read it (unavailable, or over {@link SIMD_SCAN_MAX_BYTES}): the caller scans in
 * JavaScript.
 */
export function simdScan(body: Buffer): Int32Array | null | undefined {
  if (wasm === null || bytes === null || ints === null) return undefined;
  const len = body.length;
  if (len > SIMD_SCAN_MAX_BYTES) return undefined;
  bytes.set(body, 0);
  bytes.fill(0, len, len + 16);
  const out = (len + 16 + 3) & ~3;
  const n = wasm.scan(len, out);
  return n < 0 ? null : keepInts(ints, out >> 2, n);
}
