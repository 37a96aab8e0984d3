/**
 * The offsets a parse collects (a header block's line positions, a JSON event's key and value positions), written
 * into one reused Int32Array instead of an array grown per parse, which made garbage in proportion to the input
 * for every frame. Parsing is synchronous, so one scratch per parser serves every connection; whatever must
 * outlive the parse is copied out (`ints.slice`).
 */
const INITIAL_INTS = 1024;
/** A hostile input (a million tiny lines or keys) may grow it to megabytes: beyond this, it is not kept. */
const KEEP_INTS = 1 << 16;
/** Copies below this many bytes come from Node's Buffer pool (`Buffer.allocUnsafe` serves sizes under 4 KB from it). */
const POOLED_BYTES = 4096;

export class OffsetScratch {
  ints = new Int32Array(INITIAL_INTS);

  /** Call at the start of every parse: drops a scratch an earlier, oversized parse grew. */
  start(): void {
    if (this.ints.length > KEEP_INTS) this.ints = new Int32Array(INITIAL_INTS);
  }

  /** The scratch with room for `count` more ints after the first `used`. */
  room(used: number, count: number): Int32Array {
    if (used + count > this.ints.length) {
      const grown = new Int32Array(this.ints.length * 2);
      grown.set(this.ints);
      this.ints = grown;
    }
    return this.ints;
  }

  /** The first `n` ints, copied out to outlive the parse (see {@link keepInts}). */
  keep(n: number): Int32Array {
    return keepInts(this.ints, 0, n);
  }
}

/**
 * `src[from, from + n)`, copied. A small copy lives in Node's Buffer pool (a slice of a shared 8 KB slab, 8-byte
 * aligned): `Int32Array.prototype.slice` gets its own backing store from malloc each time, about twice the cost of
 * this copy for a JSON event's ~300 offsets.
 */
export function keepInts(src: Int32Array, from: number, n: number): Int32Array {
  const bytes = n * 4;
  if (bytes > 0 && bytes < POOLED_BYTES) {
    const pooled = Buffer.allocUnsafe(bytes);
    if ((pooled.byteOffset & 3) === 0) {
      const kept = new Int32Array(pooled.buffer, pooled.byteOffset, n);
      kept.set(src.subarray(from, from + n));
      return kept;
    }
  }
  return src.slice(from, from + n);
}
