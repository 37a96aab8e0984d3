/**
 * A read-only string map computed from another representation (a parsed JSON event, URL-encoded header lines,
 * a header block read on demand): subclasses give `get`, `has`, `size` and `entries`; the rest of
 * `ReadonlyMap` is derived here once.
 */
export abstract class HeaderView implements ReadonlyMap<string, string> {
  abstract get(name: string): string | undefined;
  abstract has(name: string): boolean;
  abstract get size(): number;
  abstract entries(): MapIterator<[string, string]>;

  *keys(): MapIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  *values(): MapIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }

  forEach(fn: (value: string, key: string, map: ReadonlyMap<string, string>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }
}
