/**
 * A tiny seeded PRNG (mulberry32) so every hostile run is reproducible from its seed: a failure prints the seed,
 * and `HOSTILE_SEED=<n>` replays it. Not for anything but tests and the soak.
 */

export interface Rng {
  /** The seed this generator started from (print it with any failure). */
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** One key by weight (`{a: 3, b: 1}` → a three times as often as b). */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
  /** `n` random bytes. */
  bytes(n: number): Buffer;
}

/** mulberry32: 32-bit state, good enough spread for fuzzing, trivially portable. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed: seed >>> 0,
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)]!,
    weighted(weights) {
      const entries = Object.entries(weights) as Array<[keyof typeof weights, number]>;
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      let r = next() * total;
      for (const [key, w] of entries) {
        r -= w;
        if (r < 0) return key;
      }
      return entries.at(-1)![0];
    },
    bytes(n) {
      const out = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

/** The run's seed: `HOSTILE_SEED` when given (to replay a failure), else `fallback`. */
export function seedFrom(env: NodeJS.ProcessEnv, fallback: number): number {
  const text = env['HOSTILE_SEED'];
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : fallback;
}
